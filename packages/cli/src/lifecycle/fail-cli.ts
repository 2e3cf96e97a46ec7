import { exitCodeFor } from '../errors/exit-code-for.js';
import { exitCli } from './exit-cli.js';

/** Reports any failure as one `paddock: …` line (never a stack trace) and exits non-zero. */
export function failCli(err: unknown): Promise<never> {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`paddock: ${message.trim().split('\n')[0] || 'failed'}\n`);
  return exitCli(exitCodeFor(err));
}
