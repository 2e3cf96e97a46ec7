import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CliError } from '../errors/cli-error.js';

export interface TarProcess {
  stdin: Writable;
  stdout: Readable;
  /** Settles when tar ends: rejects with its first error line, resolves if it succeeded or was stopped. */
  finished: Promise<void>;
  stop(): void;
}

/** The local tar binary, packing to stdout (`-c`) or unpacking from stdin (`-x`). */
export function spawnTar(args: string[]): TarProcess {
  const child = spawn('tar', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stopped = false;
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const finished = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new CliError(`cannot run tar: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0 || stopped) resolve();
      else reject(new CliError(`tar: ${errors.trim().split('\n')[0] || `exited with code ${code}`}`.replace(/^tar: tar: /, 'tar: ')));
    });
  });
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    finished,
    stop: () => {
      stopped = true;
      child.kill();
    },
  };
}
