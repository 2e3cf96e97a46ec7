import { spawn } from 'node:child_process';

export interface SpawnTiming {
  /** ms from just before spawn() to the first stdout byte; null if there was none. */
  firstOutputMs: number | null;
  /** ms from just before spawn() until the process exited and its stdio closed. */
  totalMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface TimedSpawnOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cwd?: string;
  /** Settle when the process exits, not when its stdio closes: a detached container keeps runc's stdio open. */
  settleOnExit?: boolean;
}

/**
 * Runs a program with piped stdio and times it. Every baseline and every raw
 * runc call goes through here, so they all pay the same Node spawn overhead.
 */
export function timedSpawn(file: string, args: string[], options: TimedSpawnOptions = {}): Promise<SpawnTiming> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let firstOutputMs: number | null = null;
    const started = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, cwd: options.cwd });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      if (firstOutputMs === null) firstOutputMs = performance.now() - started;
      out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${file}: ${e.message}`));
    });
    child.on(options.settleOnExit ? 'exit' : 'close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        firstOutputMs,
        totalMs: performance.now() - started,
        code,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
  });
}

/** timedSpawn that insists on exit code 0. */
export async function timedSpawnOk(file: string, args: string[], options: TimedSpawnOptions = {}): Promise<SpawnTiming> {
  const r = await timedSpawn(file, args, options);
  if (r.code !== 0) {
    const why = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' ');
    throw new Error(`${[file, ...args].join(' ')} exited ${r.code ?? r.signal}: ${why}`);
  }
  return r;
}

/** Runs a command for its output (setup and machine facts, not timed). */
export async function capture(file: string, args: string[]): Promise<string> {
  const r = await timedSpawn(file, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
