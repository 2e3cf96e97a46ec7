import { CliError } from './cli-error.js';

/**
 * 2 for bad input (a flag, an argument, or a request the daemon refused as
 * invalid: HTTP 400), as getopt-style tools do; Docker's codes otherwise: 125
 * when the daemon cannot be reached or run gets no sandbox, 126/127 when the
 * program cannot run, else 1. `paddock --help` lists them.
 */
export const exitCodes = { failure: 1, badInput: 2, noSandbox: 125, cannotRun: 126, notFound: 127 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  const e = err as { code?: unknown; status?: unknown; message?: unknown; details?: { errno?: unknown } } | null;
  if (e?.code === 'connection_failed' || e?.code === 'connection_lost') return exitCodes.noSandbox;
  // The in-sandbox agent reports a failed exec as "exec <program>: <reason>" with the errno.
  if (typeof e?.message === 'string' && e.message.startsWith('exec') && typeof e.details?.errno === 'string') {
    return e.details.errno === 'ENOENT' ? exitCodes.notFound : exitCodes.cannotRun;
  }
  if (e?.status === 400) return exitCodes.badInput;
  return exitCodes.failure;
}
