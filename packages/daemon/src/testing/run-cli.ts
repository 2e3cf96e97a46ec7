import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { inject } from 'vitest';
import { cliMain } from './test-daemon.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface CliOptions {
  env: NodeJS.ProcessEnv;
  stdin?: string;
  cwd?: string;
}

/**
 * The bundled CLI the tests run: in the fast tier, the one its global setup
 * bundles from the sources (fast-global-setup.ts); in the security tier, the
 * one `make build` bundles from dist/, as `make up` installs it.
 */
export function cliPath(): string {
  return inject('paddockCli') ?? cliMain;
}

/**
 * Runs the bundled CLI without blocking this process, so servers the test
 * itself runs (DNS, upstreams, an in-process daemon) keep answering. The fast
 * tier runs it in a worker thread (its own process.env, argv, stdio and exit
 * code, a third cheaper than a process: ~170 runs in that tier); the security
 * tier, and a run that needs its own working folder, in a process of its own.
 */
export function runCli(args: string[], options: CliOptions): Promise<CliRun> {
  const inFastTier = inject('paddockCli') !== undefined;
  return inFastTier && options.cwd === undefined ? runInWorker(args, options) : runInProcess(args, options);
}

function runInProcess(args: string[], options: CliOptions): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { env: options.env, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(options.stdin ?? '');
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function runInWorker(args: string[], options: CliOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(pathToFileURL(cliPath()), { argv: args, env: { ...options.env }, stdin: true, stdout: true, stderr: true });
    let stdout = '';
    let stderr = '';
    worker.stdout.on('data', (d) => (stdout += d));
    worker.stderr.on('data', (d) => (stderr += d));
    worker.stdin?.end(options.stdin ?? '');
    worker.on('error', reject);
    worker.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
