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
  const stdout = keepEnds(result.stdout);
  const stderr = keepEnds(result.stderr);
  const notes = [
    result.timedOut && 'killed at its timeout',
    result.oomKilled && 'killed: out of memory',
    result.signal && !result.timedOut && !result.oomKilled && `ended by ${result.signal}`,
    (result.truncated || stdout.cut || stderr.cut) && 'output truncated',
  ].filter((n): n is string => typeof n === 'string');
  return { exitCode: result.exitCode, stdout: stdout.text, stderr: stderr.text, ...(notes.length ? { note: notes.join('; ') } : {}) };
}

// The start (usage lines) and the end (the final error) are what matter in a long output.
function keepEnds(text: string): { text: string; cut: boolean } {
  if (text.length <= maxStreamChars) return { text, cut: false };
  const half = maxStreamChars / 2;
  return { text: `${text.slice(0, half)}\n[… ${text.length - maxStreamChars} characters cut …]\n${text.slice(-half)}`, cut: true };
}
