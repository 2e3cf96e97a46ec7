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
 * tier runs it in a worker thread that has loaded the CLI already (its own
 * process.env, argv, stdin and captured output per command; loading the CLI
 * is most of a short command's cost, and that tier runs a few hundred); the
 * security tier, and a run that needs its own working folder, in a process
 * of its own, as a user would.
 */
export function runCli(args: string[], options: CliOptions): Promise<CliRun> {
  const worker = inject('paddockCliWorker');
  return worker !== undefined && options.cwd === undefined ? runInWorker(worker, args, options) : runInProcess(args, options);
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

// Workers with the CLI loaded and nothing to do; one command at a time each (they change process-wide state).
const idle: Worker[] = [];

function runInWorker(bundle: string, args: string[], options: CliOptions): Promise<CliRun> {
  const worker = idle.pop() ?? new Worker(pathToFileURL(bundle), { stdout: false, stderr: false });
  worker.ref();
  return new Promise<CliRun>((resolve, reject) => {
    const failed = (err: Error) => reject(err);
    const exited = (code: number) => reject(new Error(`the CLI worker exited with ${code} during paddock ${args.join(' ')}`));
    worker.once('error', failed);
    worker.once('exit', exited);
    worker.once('message', (result: CliRun) => {
      worker.off('error', failed);
      worker.off('exit', exited);
      worker.unref();
      idle.push(worker);
      resolve(result);
    });
    worker.postMessage({ args, env: { ...options.env }, stdin: options.stdin ?? '' });
  });
}
