import { Audit, type AuditVerification } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError } from '../errors/cli-error.js';
import { printLines } from '../output/print-lines.js';

/** `paddock audit verify`: one line when the chain is intact; else each problem, and exit 1. */
export async function verifyAudit(_flags: object, command: Command): Promise<void> {
  const result = await Audit.verify(connectionFor(command));
  if (!result.ok) {
    printLines(result.problems.map((p) => `#${p.seq ?? '-'} ${p.problem}: ${p.message}`));
    const n = result.problems.length;
    throw new CliError(`audit log NOT intact: ${n} problem${n === 1 ? '' : 's'} in ${result.records} records`);
  }
  printLines([intactLine(result)]);
}

function intactLine(result: AuditVerification): string {
  const head = result.head ? `head #${result.head.seq} signed at ${result.head.signedAt}` : 'no signed head yet';
  return `audit log intact: ${result.records} records, ${head}`;
}
