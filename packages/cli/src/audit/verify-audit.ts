import { type FileHandle, open } from 'node:fs/promises';
import { printable } from '@paddock/core/client';
import { Audit, type AuditAnchorCheck, type AuditVerification } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError } from '../errors/cli-error.js';
import { printLines } from '../output/print-lines.js';

interface VerifyFlags {
  anchor?: string;
}

// What the daemon takes in one request; the newest anchors are at the end of the file.
const maxAnchorBytes = 1024 * 1024;

/**
 * `paddock audit verify`: what was checked (records, heads, each anchor source
 * and whether the database reaches its newest anchor); each problem and exit 1
 * when something does not hold.
 */
export async function verifyAudit(flags: VerifyFlags, command: Command): Promise<void> {
  const anchors = flags.anchor === undefined ? undefined : await readAnchorTail(flags.anchor);
  const result = await Audit.verify({ ...connectionFor(command), anchors });
  const checked = checkedLines(result, flags.anchor);
  if (!result.ok) {
    printLines([...result.problems.map((p) => `#${p.seq ?? '-'} ${p.problem}: ${printable(p.message)}`), ...checked]);
    const n = result.problems.length;
    throw new CliError(`audit log NOT intact: ${n} problem${n === 1 ? '' : 's'} in ${result.records} records`);
  }
  printLines(checked);
}

function checkedLines(result: AuditVerification, anchorFile: string | undefined): string[] {
  const head = result.head ? `newest head #${result.head.seq} signed at ${result.head.signedAt}` : 'no signed head yet';
  return [
    `${result.ok ? 'audit log intact' : 'checked'}: ${result.records} records, ${result.heads} signed head${result.heads === 1 ? '' : 's'}, ${head}`,
    ...result.anchors.map((a) => anchorLine(a, anchorFile)),
  ];
}

function anchorLine(a: AuditAnchorCheck, anchorFile: string | undefined): string {
  const where = a.source === 'anchor-log' ? `anchor log ${a.location}` : `supplied anchors ${anchorFile ?? a.location}`;
  const newest = a.newest
    ? `newest #${a.newest.anchor} (record ${a.newest.seq}, signed at ${a.newest.signedAt}), ${a.reached ? 'reached by the database' : 'NOT reached by the database'}`
    : 'no signed anchor';
  return printable(`${where}: ${a.checked} anchor${a.checked === 1 ? '' : 's'} checked, ${newest}`);
}

/** The file's last whole lines, up to what one request takes; only that much is read. */
async function readAnchorTail(path: string): Promise<string> {
  let file: FileHandle | undefined;
  try {
    file = await open(path, 'r');
    const { size } = await file.stat();
    const length = Math.min(size, maxAnchorBytes);
    const { buffer, bytesRead } = await file.read({ buffer: Buffer.alloc(length), position: size - length });
    const text = buffer.subarray(0, bytesRead);
    // Cut into the middle of a line: start after the first line break.
    return (size > length ? text.subarray(text.indexOf(0x0a) + 1) : text).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`--anchor: cannot read ${path}${code ? ` (${code})` : ''}`);
  } finally {
    await file?.close();
  }
}
