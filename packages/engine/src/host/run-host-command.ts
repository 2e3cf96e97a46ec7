import { spawn } from 'node:child_process';
import { formatDuration, RuntimeError, TimeoutError } from '@paddock/core';

export interface HostCommandOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  cwd?: string;
  /** The program's whole environment; the daemon's own when omitted. */
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Called with each chunk of stdout/stderr, for progress display. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

export interface HostCommandResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a host program with an argv array (never a shell string) and rejects
 * with a RuntimeError carrying its stderr when it exits non-zero.
 */
export function runHostCommand(file: string, args: string[], options: HostCommandOptions = {}): Promise<HostCommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      options.onOutput?.(d.toString(), 'stdout');
    });
    child.stderr.on('data', (d: Buffer) => {
      err.push(d);
      options.onOutput?.(d.toString(), 'stderr');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new RuntimeError(`${file}: ${e.message}`, { command: [file, ...args] }));
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (timedOut) return reject(new TimeoutError(`${file} timed out after ${formatDuration(options.timeoutMs ?? 0)}`, { command: [file, ...args] }));
      if (code === 0) return resolve({ stdout, stderr });
      reject(
        new RuntimeError(`${file} ${args[0] ?? ''} failed: ${stderr.trim() || `exit ${code ?? sig}`}`, {
          command: [file, ...args],
          exitCode: code,
          stderr: stderr.slice(-4000),
        }),
      );
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input);
  });
}
