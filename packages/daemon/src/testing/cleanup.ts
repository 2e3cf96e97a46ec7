import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { CgroupProbe, runtimeRootsOf, sweepStateDir } from '@paddock/engine';
import { cgroupParentFor } from '../config/daemon-config.js';

export { mountsUnder } from '@paddock/engine';

/**
 * Removes whatever a test daemon left behind (it should be nothing): runtime
 * containers, mounts, the state folder and its cgroup parent.
 */
export async function cleanupStateDir(stateDir: string): Promise<void> {
  sweepStateDir(stateDir, runtimeRootsOf(stateDir));
  rmSync(`${stateDir}.log`, { force: true });
  new CgroupProbe().removeParent(cgroupParentFor(resolve(stateDir)));
}
