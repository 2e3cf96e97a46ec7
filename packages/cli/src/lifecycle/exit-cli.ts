import { runCleanups } from './cleanup.js';

let exiting: Promise<never> | undefined;

/**
 * Ends the CLI with `code` once the cleanups are done. The first call wins:
 * a later one (another EPIPE, say) must not cut the cleanups short.
 */
export function exitCli(code: number): Promise<never> {
  exiting ??= runCleanups().then(() => process.exit(code));
  return exiting;
}
