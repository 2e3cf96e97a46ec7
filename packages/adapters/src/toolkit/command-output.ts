import { keepEnds } from '@paddock/core/client';
import type { CommandResult } from '@paddock/sdk';

/** Characters kept of each of stdout and stderr: past this a result costs the model more context than it tells. */
export const maxStreamChars = 32_000;

export interface CommandOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Present when the command was killed for its timeout or out of memory, or output was cut. */
  note?: string;
}

/** A command's result as a model sees it: exit code, output with the middle of long streams cut. */
export function commandOutput(result: CommandResult): CommandOutput {
  const stdout = keepEnds(result.stdout, maxStreamChars);
  const stderr = keepEnds(result.stderr, maxStreamChars);
  const notes = [
    result.timedOut && 'killed at its timeout',
    result.oomKilled && 'killed: out of memory',
    result.signal && !result.timedOut && !result.oomKilled && `ended by ${result.signal}`,
    (result.truncated || stdout.truncated || stderr.truncated) && 'output truncated',
  ].filter((n): n is string => typeof n === 'string');
  return { exitCode: result.exitCode, stdout: stdout.text, stderr: stderr.text, ...(notes.length ? { note: notes.join('; ') } : {}) };
}
