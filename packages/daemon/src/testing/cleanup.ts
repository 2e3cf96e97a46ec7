import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { CgroupProbe } from '@paddock/engine';
import { cgroupParentFor } from '../config/daemon-config.js';

/**
 * Removes whatever a test daemon left behind (it should be nothing): runtime
 * containers, mounts, and the state folder.
 */
export async function cleanupStateDir(stateDir: string): Promise<void> {
  const runcRoot = `${stateDir}/runc`;
  if (existsSync(runcRoot)) {
    for (const id of readdirSync(runcRoot)) {
      try {
        execFileSync('runc', ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
  for (const mount of mountsUnder(stateDir).reverse()) {
    try {
      execFileSync('umount', ['--lazy', mount], { stdio: 'ignore' });
    } catch {
      // raced with another cleanup
    }
  }
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(`${stateDir}.log`, { force: true });
  new CgroupProbe().removeParent(cgroupParentFor(resolve(stateDir)));
}

export function mountsUnder(prefix: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${prefix}/`));
}
