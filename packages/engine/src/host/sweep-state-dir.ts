import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mountsUnder } from '../rootfs/sandbox-rootfs.js';

/**
 * Last-resort removal of a folder that held sandboxes (a test's or a
 * benchmark's state): force-deletes the containers of its runc roots,
 * detaches every mount below it, and removes it. Synchronous so it also runs
 * from exit handlers.
 */
export function sweepStateDir(dir: string, runcRoots: string[], runc = 'runc'): void {
  for (const root of runcRoots) {
    if (!existsSync(root)) continue;
    for (const id of readdirSync(root)) {
      try {
        execFileSync(runc, ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
      } catch {
        // already gone
      }
    }
  }
  for (const mount of mountsUnder(dir).reverse()) {
    try {
      execFileSync('umount', ['--lazy', mount], { stdio: 'ignore' });
    } catch {
      // raced with an earlier step
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
