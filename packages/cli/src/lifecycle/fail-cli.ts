import { printable } from '@paddock/core/client';
import { exitCodeFor } from '../errors/exit-code-for.js';
import { exitCli } from './exit-cli.js';

/**
 * Reports a failure as one `paddock: …` line (never a stack trace) and
 * returns the exit code it means. A message can carry what a sandbox wrote
 * (its tar's complaint, an agent's answer): control characters are shown escaped.
 */
export function reportFailure(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`paddock: ${printable(message.trim().split('\n')[0] || 'failed')}\n`);
  return exitCodeFor(err);
}

/** Reports any failure as one line and exits non-zero. */
export function failCli(err: unknown): Promise<never> {
  return exitCli(reportFailure(err));
}
