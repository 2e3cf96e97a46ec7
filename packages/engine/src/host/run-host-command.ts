import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { formatDuration, RuntimeError, TimeoutError } from '@paddock/core';
import type { LeanSpawner } from './lean-spawner.js';

export interface HostCommandOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  cwd?: string;
  /** The program's whole environment; the daemon's own when omitted. */
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Called with each chunk of stdout/stderr, for progress display. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Starts the program from this small helper instead of the caller's process (see LeanSpawner). */
  spawner?: LeanSpawner;
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
  // Output read only at the end is gathered by the spawner's helper: no streams to hand over.
  const collect = options.spawner !== undefined && options.onOutput === undefined && typeof options.input !== 'object';
  return new Promise((resolve, reject) => {
    const child = options.spawner
      ? options.spawner.spawn(file, args, {
          cwd: options.cwd,
          env: options.env,
          ...(collect ? { stdio: 'collect' as const, input: options.input as string | undefined } : {}),
        })
      : spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let ended: 'timeout' | 'aborted' | undefined;
    const stop = (why: 'timeout' | 'aborted', signal: NodeJS.Signals) => {
      ended ??= why;
      child.kill(signal);
    };
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout', 'SIGKILL'), options.timeoutMs);
    const onAbort = () => stop('aborted', 'SIGTERM');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const talk = (stdin: Writable | null, stdout: Readable | null, stderr: Readable | null) => {
      stdout?.on('data', (d: Buffer) => {
        out.push(d);
        options.onOutput?.(d.toString(), 'stdout');
      });
      stderr?.on('data', (d: Buffer) => {
        err.push(d);
        options.onOutput?.(d.toString(), 'stderr');
      });
      stdin?.on('error', () => {});
      stdin?.end(options.input);
    };
    if (options.signal?.aborted) onAbort();
    // A spawner's child has its streams from 'spawn' on; Node's from the start.
    if (options.spawner) {
      if (!collect) child.once('spawn', () => talk(child.stdin, child.stdout, child.stderr));
    } else talk(child.stdin, child.stdout, child.stderr);
    child.on('error', (e: Error) => {
      done();
      reject(new RuntimeError(`${file}: ${e.message}`, { command: [file, ...args] }));
    });
    child.on('close', (code: number | null, sig: NodeJS.Signals | null) => {
      done();
      const collected = 'output' in child ? child.output : undefined;
      const stdout = collected?.stdout ?? Buffer.concat(out).toString();
      const stderr = collected?.stderr ?? Buffer.concat(err).toString();
      if (ended === 'timeout')
        return reject(new TimeoutError(`${file} timed out after ${formatDuration(options.timeoutMs ?? 0)}`, { command: [file, ...args] }));
      if (ended === 'aborted') return reject(new RuntimeError(`${file}: The operation was aborted`, { command: [file, ...args] }));
      if (code === 0) return resolve({ stdout, stderr });
      reject(
        new RuntimeError(`${file} ${args[0] ?? ''} failed: ${stderr.trim() || `exit ${code ?? sig}`}`, {
          command: [file, ...args],
          exitCode: code,
          stderr: stderr.slice(-4000),
        }),
      );
    });
  });
}
