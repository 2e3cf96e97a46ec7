import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mountsUnder } from '../rootfs/sandbox-rootfs.js';

export interface RuntimeRoot {
  binary: string;
  root: string;
}

/** The runc and runsc state folders a daemon keeps in its state folder. */
export function runtimeRootsOf(stateDir: string): RuntimeRoot[] {
  return [
    { binary: 'runc', root: `${stateDir}/runc` },
    { binary: 'runsc', root: `${stateDir}/runsc` },
  ];
}

/**
 * Last-resort removal of a folder that held sandboxes (a test's or a
 * benchmark's state): force-deletes the containers of its runtime roots,
 * detaches every mount below it, and removes it. Synchronous so it also runs
 * from exit handlers.
 */
export function sweepStateDir(dir: string, roots: RuntimeRoot[]): void {
  for (const { binary, root } of roots) {
    if (!existsSync(root)) continue;
    for (const id of containersIn(binary, root)) {
      try {
        execFileSync(binary, ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
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

function containersIn(binary: string, root: string): string[] {
  try {
    const out = execFileSync(binary, ['--root', root, 'list', '--format', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
    return ((JSON.parse(out.trim() || 'null') as Array<{ id: string }> | null) ?? []).map((c) => c.id);
  } catch {
    return [];
  }
}
