import { processWaitBounds } from '@paddock/core/client';
import { PaddockError, Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError } from '../errors/cli-error.js';
import { parseOptionalDuration } from '../options/parse-duration.js';
import { parsePositiveNumber } from '../options/parse-number.js';
import { printLines } from '../output/print-lines.js';
import { latestPid } from './show-logs.js';

// As timeout(1): the time ran out before the command did.
const waitTimedOut = 124;

/**
 * `paddock wait`: waits for a background command (the latest unless PID is
 * given) and prints its exit code, as `docker wait` does. With --timeout, a
 * command still running by then is left running and the wait ends with 124.
 */
export async function waitProcess(id: string, pidText: string | undefined, flags: { timeout?: string }, command: Command): Promise<void> {
  const explicitPid = pidText === undefined ? undefined : parsePositiveNumber(pidText, 'PID', 'integer');
  const timeoutMs = parseOptionalDuration(flags.timeout, '--timeout', processWaitBounds);
  const sbx = await Sandbox.connect(id, connectionFor(command));
  const pid = explicitPid ?? latestPid(await sbx.commands.list(), sbx.id);
  const handle = await sbx.commands.connect(pid);
  try {
    const result = await handle.wait({ timeoutMs });
    printLines([String(result.exitCode)]);
  } catch (err) {
    if (err instanceof PaddockError && err.code === 'wait_timeout') throw new CliError(err.message, waitTimedOut);
    // A command that failed or timed out still ended: its code is the answer.
    const ended = err as { exitCode?: unknown };
    if (err instanceof PaddockError && typeof ended.exitCode === 'number') return printLines([String(ended.exitCode)]);
    throw err;
  }
}
