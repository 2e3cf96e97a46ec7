import { spawn } from 'node:child_process';
import { inject } from 'vitest';
import { cliMain } from './test-daemon.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
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
 * itself runs (DNS, upstreams, an in-process daemon) keep answering.
 */
export function runCli(args: string[], options: { env: NodeJS.ProcessEnv; stdin?: string; cwd?: string }): Promise<CliRun> {
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
