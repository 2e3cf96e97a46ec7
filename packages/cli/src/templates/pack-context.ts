import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import dockerignore from '@balena/dockerignore';
import { formatBytes } from '@paddock/core/client';
import { CliError } from '../errors/cli-error.js';

// The context travels base64 inside one JSON request, which the daemon caps at 96 MiB.
const maxContextBytes = 64 * 1024 * 1024;

/**
 * A tar of the build context folder, made with the local tar binary. What its
 * .dockerignore excludes is not sent (the daemon applies it again, for
 * contexts that come from elsewhere).
 */
export function packContext(dir: string): Uint8Array {
  const ignoreFile = join(dir, '.dockerignore');
  const names = existsSync(ignoreFile) ? keptPaths(dir, readFileSync(ignoreFile, 'utf8')) : undefined;
  const args = names ? ['-c', '--exclude-vcs', '--no-recursion', '-C', dir, '--null', '-T', '-'] : ['-c', '--exclude-vcs', '-C', dir, '.'];
  try {
    return new Uint8Array(
      execFileSync('tar', args, { input: names?.map((n) => `${n}\0`).join(''), maxBuffer: maxContextBytes, stdio: ['pipe', 'pipe', 'pipe'] }),
    );
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer; message: string };
    if (e.code === 'ENOBUFS') throw new CliError(`the build context ${dir} is larger than ${formatBytes(maxContextBytes)}; pass a smaller folder as CONTEXT`);
    const reason = e.stderr?.toString().trim().split('\n')[0] || e.message;
    throw new CliError(`cannot pack the build context ${dir}: ${reason}`);
  }
}

/** Every path under dir (folders too: tar is told not to recurse) that the .dockerignore rules keep. */
function keptPaths(dir: string, rules: string): string[] {
  const ig = dockerignore.default({ ignorecase: false }).add(rules);
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  const paths = entries.map((e) => relative(dir, join(e.parentPath, e.name))).filter((p) => !ig.ignores(p));
  return ['.', ...paths.map((p) => `./${p}`)];
}
