import { fileURLToPath } from 'node:url';
import { Sandbox, Volumes } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon, testRootPrefix } from '../testing/test-daemon.js';
import { probeTiers, sh } from './probe-kit.js';

// Section A: what a sandbox learns of the host from its own mount table.
let daemon: TestDaemon;
// The checkout the daemon runs from (its agent binaries are there).
const checkout = fileURLToPath(new URL('../../../../', import.meta.url)).replace(/\/$/, '');

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

describe.each(probeTiers)('the mount table on the %s tier', (tier) => {
  it('A12: /proc/self/mountinfo, /proc/1/mountinfo and /proc/self/mounts name no host path', async () => {
    // A volume's mount too: its source is a loop device, and the loop device's backing file is hidden.
    await Volumes.create({ ...daemon.conn, name: `a12-${tier}`, sizeMiB: 16 });
    const sbx = await Sandbox.create({ ...daemon.conn, tier, volumes: [{ name: `a12-${tier}`, path: '/work/volume' }] });
    const expectNoHostPath = async (target: Sandbox) => {
      for (const user of [undefined, 'user']) {
        const r = await sh(target, 'cat /proc/self/mountinfo /proc/1/mountinfo /proc/self/mounts; cat /sys/block/*/loop/backing_file 2>/dev/null; true', user);
        expect(r.stdout.split('\n').length).toBeGreaterThan(5);
        for (const hostPath of [daemon.stateDir, testRootPrefix, '/var/cache/paddock', '/var/lib/paddock', checkout]) {
          expect(r.stdout, `${hostPath} in:\n${r.stdout}`).not.toContain(hostPath);
        }
      }
    };
    try {
      await expectNoHostPath(sbx);
      // A fork's root has two layers below it; a rollback mounts the root again.
      const fork = await sbx.fork();
      await expectNoHostPath(fork);
      await fork.kill();
      const cp = await sbx.checkpoint();
      await sbx.rollback(cp);
      await expectNoHostPath(sbx);
      expect((await sh(sbx, 'grep -c " /work/volume " /proc/self/mounts')).stdout).toBe('1\n');
    } finally {
      await sbx.kill();
      await Volumes.delete(`a12-${tier}`, daemon.conn);
    }
  });
});
