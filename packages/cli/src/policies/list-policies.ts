import { Policies, type PolicyInfo } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { formatProblem } from './format-problem.js';

/** `paddock policy ls`: the policies in force; a failed reload's problems on stderr. */
export async function listPolicies(flags: { json?: boolean }, command: Command): Promise<void> {
  const status = await Policies.list(connectionFor(command));
  if (flags.json) return printJson(status);
  process.stdout.write(
    formatTable(
      ['NAME', 'EFFECT'],
      status.policies.map((p) => [p.name, effectOf(p)]),
    ),
  );
  if (status.problems.length === 0) return;
  // The daemon keeps the last good set when a reload fails, so the table above is still what applies.
  process.stderr.write(`paddock: the last reload of ${status.dir} failed; the policies above stay in force until it is fixed:\n`);
  process.stderr.write(status.problems.map((p) => `${formatProblem({ ...p, file: `${status.dir}/${p.file}` })}\n`).join(''));
}

/** A forbid annotated @ask asks a human instead of denying: worth telling apart at a glance. */
function effectOf(p: PolicyInfo): string {
  return p.effect === 'forbid' && p.annotations.ask !== undefined ? 'forbid (ask)' : p.effect;
}
