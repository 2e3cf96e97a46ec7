import { Pools, Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolReady } from '../testing/pool-ready.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// A pooled sandbox has run the daemon's warm-up command (`true`) before it is
// counted ready; its claimer must see nothing of it, on a real runtime.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

const readyOf = (id: string) => poolReady(daemon.conn, id);

/** The sandbox's processes and the commands its agent supervises, counted by the shell itself (a glob starts no process). */
const insideCounts = async (sandbox: Sandbox) =>
  (await sandbox.commands.run(['sh', '-c', 'set -- /proc/[0-9]*; echo "processes $#"; set -- /dev/.paddock-procs/*; echo "supervised $#"'])).stdout;

describe('warm pools', () => {
  it('hand out sandboxes whose first command has run, leaving the claimer nothing of it: no command, no audit record, no process', async () => {
    const pool = await Pools.set({ template: 'base', size: 1 }, daemon.conn);
    try {
      await expect.poll(() => readyOf(pool.id), { timeout: 30_000 }).toBe(1);
      // The daemon writes its log lines in batches, within a quarter of a second.
      await expect.poll(() => daemon.log(), { timeout: 5_000 }).toContain('pooled sandbox warmed');
      const claimed = await Sandbox.create(daemon.conn);
      // Other limits than the pool's: made afresh, for comparison.
      const fresh = await Sandbox.create({ ...daemon.conn, limits: { memoryMiB: 300 } });
      try {
        expect((await Pools.list(daemon.conn)).find((p) => p.id === pool.id)).toMatchObject({ hits: 1 });
        // First, before any call of ours names the sandbox (each is audited).
        const audit = (await (await daemon.api(`/v1/audit?sandbox=${claimed.id}`)).json()) as { records: unknown[] };
        expect(audit.records).toEqual([]);
        expect(await claimed.commands.list()).toEqual([]);
        expect(Date.now() - Date.parse(claimed.lastKnown.createdAt)).toBeLessThan(5000);
        expect(await insideCounts(claimed)).toBe(await insideCounts(fresh));
        // The claimer's own commands are listed as ever.
        expect((await claimed.commands.list()).map((p) => p.cmd)).toEqual([['sh', '-c', expect.stringContaining('processes')]]);
      } finally {
        await Promise.all([claimed.kill(), fresh.kill()]);
      }
    } finally {
      await Pools.remove(pool.id, daemon.conn);
    }
  });
});
