import { Pools, Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolReady } from '../testing/pool-ready.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// Warm pools across a restart of the real daemon: their sandboxes (gVisor
// ones too, so on real runtimes) are adopted, then emptied with their pool.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

const readyOf = (id: string) => poolReady(daemon.conn, id);

describe('warm pools', () => {
  it('keep their sandboxes across a daemon restart, and are emptied with their pool', async () => {
    const pool = await Pools.set({ template: 'base', size: 1, tier: 'gvisor' }, daemon.conn);
    await expect.poll(() => readyOf(pool.id), { timeout: 30_000 }).toBe(1);
    await daemon.crash();
    await daemon.restart();
    expect(await readyOf(pool.id)).toBe(1);
    const claimed = await Sandbox.create({ ...daemon.conn, tier: 'gvisor' });
    expect(claimed.tier).toBe('gvisor');
    expect((await claimed.commands.run(['uname', '-r'])).stdout).toBe('4.4.0\n');
    await claimed.kill();
    await expect.poll(() => readyOf(pool.id), { timeout: 30_000 }).toBe(1);
    await Pools.remove(pool.id, daemon.conn);
    expect(await Pools.list(daemon.conn)).toEqual([]);
    const leftovers = (await (await daemon.api('/v1/sandboxes?state=running')).json()) as { sandboxes: unknown[] };
    expect(leftovers.sandboxes).toEqual([]);
  });
});
