import { execFileSync } from 'node:child_process';
import { formatBytes } from '@paddock/core/client';
import { CliError } from '../errors/cli-error.js';

// The context travels base64 inside one JSON request, which the daemon caps at 96 MiB.
const maxContextBytes = 64 * 1024 * 1024;

/** A tar of the build context folder, made with the local tar binary. */
export function packContext(dir: string): Uint8Array {
  try {
    return new Uint8Array(execFileSync('tar', ['-c', '--exclude-vcs', '-C', dir, '.'], { maxBuffer: maxContextBytes, stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer; message: string };
    if (e.code === 'ENOBUFS') throw new CliError(`the build context ${dir} is larger than ${formatBytes(maxContextBytes)}; pass a smaller folder as CONTEXT`);
    const reason = e.stderr?.toString().trim().split('\n')[0] || e.message;
    throw new CliError(`cannot pack the build context ${dir}: ${reason}`);
  }
}
