/** A failure the CLI reports as one line and an exit code (125 like Docker when the sandbox could not be had). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Prints one line for any error (never a stack trace) and exits non-zero. */
export function exitWithError(err: unknown): never {
  const e = err as { message?: string; code?: string; exitCode?: number };
  const message = (e?.message ?? String(err)).split('\n')[0];
  process.stderr.write(`paddock: ${message}\n`);
  const code = err instanceof CliError ? err.exitCode : e?.code === 'connection_failed' ? 125 : 1;
  process.exit(code);
}
