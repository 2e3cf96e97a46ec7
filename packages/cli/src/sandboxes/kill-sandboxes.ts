import type { Connection } from '@paddock/sdk';
import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { exitCodeFor } from '../errors/exit-code-for.js';
import { printLines } from '../output/print-lines.js';

/** `paddock kill`: prints each killed id; one line on stderr for each that failed. */
export async function killSandboxes(ids: string[], flags: { all?: boolean }, command: Command): Promise<void> {
  const conn = connectionFor(command);
  if (flags.all && ids.length > 0) throw new UsageError('kill takes sandbox ids or --all, not both');
  if (flags.all) return printLines(await Sandbox.killAll(conn));
  if (ids.length === 0) throw new UsageError('kill needs sandbox ids, or --all');
  const results = await Promise.allSettled(ids.map((id) => killOne(conn, id)));
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') printLines([ids[i] as string]);
    else process.stderr.write(`paddock: ${(result.reason as Error).message}\n`);
  });
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) process.exitCode = exitCodeFor(failure.reason);
}

async function killOne(conn: Connection, id: string): Promise<void> {
  await (await Sandbox.connect(id, conn)).kill();
}
