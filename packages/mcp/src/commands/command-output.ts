import { type CommandResult, CommandResultSchema, keepEnds } from '@paddock/core';
import { outputLimits } from '../results/output-limits.js';

/** A command's result as a tool returns it: the core result with long output cut. */
export const CommandOutputSchema = CommandResultSchema;

export function commandOutput(result: CommandResult): CommandResult {
  const stdout = keepEnds(result.stdout, outputLimits.streamChars);
  const stderr = keepEnds(result.stderr, outputLimits.streamChars);
  return { ...result, stdout: stdout.text, stderr: stderr.text, truncated: result.truncated || stdout.truncated || stderr.truncated };
}

/** Commands run from MCP get a deadline unless they ask for another: a call that never returns helps no client. */
export const defaultCommandTimeoutMs = 120_000;

/** A command line as the SDK runs a string: by /bin/sh. */
export function shellLine(line: string): string[] {
  return ['/bin/sh', '-c', line];
}
