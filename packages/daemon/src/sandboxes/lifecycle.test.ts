import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupCpuSeconds, hostFootprint, processAlive } from '../testing/host-probe.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// What needs real sandboxes: a paused cgroup's CPU across a daemon restart,
// a paused sandbox's kill, 50 sandboxes and a kill --all leaving nothing on the host. The API's side of the
// lifecycle (listing, timeouts, pause and resume) is in sandbox-api.test.ts.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

describe('sandbox lifecycle', () => {
  it.each(['container', 'gvisor'] as const)(
    'pause holds the CPU at zero, survives a daemon restart, and resume continues the same processes (%s tier)',
    async (tier) => {
      const sbx = await Sandbox.create({ ...daemon.conn, tier });
      const spinner = await sbx.commands.start(['python3', '-c', 'import os\nprint(os.getpid(), flush=True)\nwhile True: pass']);
      let pidBefore = '';
      await expect
        .poll(async () => (pidBefore = (await sbx.commands.run(['pgrep', '-f', 'while True']).catch(() => ({ stdout: '' }))).stdout.trim()), {
          timeout: 10_000,
          interval: 100,
        })
        .toMatch(/^\d+$/);
      await sbx.pause();
      const cpu0 = cgroupCpuSeconds(daemon.stateDir, sbx.id);
      // Measured across a whole crash and restart of the daemon (a new process
      // that reconciles before it listens): a spinner left running would use
      // many times 0.02 s of CPU meanwhile.
      await daemon.crash();
      await daemon.restart();
      const again = await Sandbox.connect(sbx.id, daemon.conn);
      expect(again.lastKnown.state).toBe('paused');
      expect(cgroupCpuSeconds(daemon.stateDir, sbx.id) - cpu0).toBeLessThan(0.02);
      await again.resume();
      expect((await again.commands.run(['pgrep', '-f', 'while True'])).stdout.trim()).toBe(pidBefore);
      const cpu1 = cgroupCpuSeconds(daemon.stateDir, sbx.id);
      await expect.poll(() => cgroupCpuSeconds(daemon.stateDir, sbx.id) - cpu1, { timeout: 10_000, interval: 100 }).toBeGreaterThan(0.1);
      void spinner;
      await again.kill();
    },
  );

  it.each(['container', 'gvisor'] as const)('kills a paused sandbox with its processes and leaves nothing behind (%s tier)', async (tier) => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    await sbx.commands.start(['sleep', '600']);
    const { pids } = hostFootprint(daemon.stateDir, sbx.id);
    expect(pids.length).toBeGreaterThan(0);
    await sbx.pause();
    await sbx.kill();
    expect(hostFootprint(daemon.stateDir, sbx.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
    expect(pids.filter(processAlive)).toEqual([]);
  });

  it('creates 50 sandboxes at once; all work and all clean up', async () => {
    const created = await Promise.all(Array.from({ length: 50 }, (_, i) => Sandbox.create({ ...daemon.conn, metadata: { batch: 'fifty', n: String(i) } })));
    expect(new Set(created.map((s) => s.id)).size).toBe(50);
    const outputs = await Promise.all(created.map((s, i) => s.commands.run(['sh', '-c', `echo ${i}; hostname`])));
    for (const [i, r] of outputs.entries()) expect(r.stdout).toBe(`${i}\n${created[i]?.id}\n`);
    await Promise.all(created.map((s) => s.kill()));
    for (const s of created)
      expect(hostFootprint(daemon.stateDir, s.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
    expect(await Sandbox.list({ ...daemon.conn, metadata: { batch: 'fifty' } })).toEqual([]);
  });

  it('kill --all ends sandboxes of both tiers, running and paused, with their commands, and leaves nothing behind', async () => {
    // The processes of all are killed first, then each is torn down in turn (a paused one thawed to take its SIGKILL).
    const made = await Promise.all(
      (['container', 'container', 'container', 'gvisor'] as const).map((tier) => Sandbox.create({ ...daemon.conn, tier, metadata: { batch: 'all' } })),
    );
    for (const s of made) await s.commands.start(['sleep', '600']);
    await made[1]?.pause();
    const pids = made.flatMap((s) => hostFootprint(daemon.stateDir, s.id).pids);
    expect(pids.length).toBeGreaterThanOrEqual(made.length);
    const res = await daemon.api('/v1/sandboxes', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { killed: string[] }).killed).toEqual(expect.arrayContaining(made.map((s) => s.id)));
    for (const s of made) expect(hostFootprint(daemon.stateDir, s.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
    expect(pids.filter(processAlive)).toEqual([]);
    expect(await Sandbox.list({ ...daemon.conn, metadata: { batch: 'all' } })).toEqual([]);
  });
});
