import { Policies } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { printLines } from '../output/print-lines.js';
import { formatProblem } from './format-problem.js';
import { readPolicyFiles } from './read-policy-files.js';

/** `paddock policy check`: validates policy files on the daemon (same schema, same Cedar) before they are installed. */
export async function checkPolicies(paths: string[], _flags: unknown, command: Command): Promise<void> {
  const result = await Policies.check(await readPolicyFiles(paths), connectionFor(command));
  if (result.ok) return printLines([`ok: ${result.policies} ${result.policies === 1 ? 'policy' : 'policies'}`]);
  process.stderr.write(result.problems.map((p) => `${formatProblem(p)}\n`).join(''));
  process.exitCode = 1;
}
