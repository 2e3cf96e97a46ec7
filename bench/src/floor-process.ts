import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A floor server of the bench: a Node process of its own, listening on 127.0.0.1. */
export interface FloorProcess {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** A floor server reached by URL. */
export interface FloorServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The engine's entry point as a file URL, for a floor server's source to import. */
export function engineEntry(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('@paddock/engine')).href;
}

/** The daemon's own Node flag that shapes its speed (a small young generation): floor servers that stand for it run with it too. */
export const daemonNodeFlags = ['--max-semi-space-size=2'];

/**
 * Writes `source` to `dir`/`fileName` and runs it with `nodeFlags` and
 * `args`; resolves with the port it prints once it listens. `what` names it
 * in the error if it ends first.
 */
export async function startFloorProcess(options: {
  dir: string;
  fileName: string;
  source: string;
  args: string[];
  what: string;
  nodeFlags?: string[];
}): Promise<FloorProcess> {
  const file = join(options.dir, options.fileName);
  await writeFile(file, options.source);
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeFlags ?? []), file, ...options.args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${options.what} exited (${code}) before listening`)));
    child.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
  });
  return {
    port,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
