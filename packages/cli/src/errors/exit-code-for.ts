import { CliError } from './cli-error.js';

/** Docker's codes: 125 when the daemon or sandbox is not there, 126/127 when the program cannot run, else 1. */
export const exitCodes = { failure: 1, noSandbox: 125, cannotRun: 126, notFound: 127 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  const e = err as { code?: unknown; message?: unknown; details?: { errno?: unknown } } | null;
  if (e?.code === 'connection_failed' || e?.code === 'connection_lost') return exitCodes.noSandbox;
  // The in-sandbox agent reports a failed exec as "exec <program>: <reason>" with the errno.
  if (typeof e?.message === 'string' && e.message.startsWith('exec') && typeof e.details?.errno === 'string') {
    return e.details.errno === 'ENOENT' ? exitCodes.notFound : exitCodes.cannotRun;
  }
  return exitCodes.failure;
}
