import { Pools, Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';
import { poolReady } from '../testing/pool-ready.js';

// Warm pools: claims are fresh, isolated and their caller's; the pool refills,
// counts hits and misses, follows its template, and survives a restart.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

const readyOf = (id: string) => poolReady(daemon.conn, id);

describe('warm pools', () => {
  it('serve matching creates with fresh, isolated sandboxes that become the caller’s; refill; count hits and misses', async () => {
    const pool = await Pools.set({ template: 'base', size: 2, limits: { memoryMiB: 256 } }, daemon.conn);
    await expect.poll(() => readyOf(pool.id), { timeout: 30_000 }).toBe(2);
    // Pooled sandboxes belong to nobody yet.
    expect(await Sandbox.list(daemon.conn)).toEqual([]);
    const a = await Sandbox.create({ ...daemon.conn, limits: { memoryMiB: 256 }, metadata: { task: 'a' }, env: { GREETING: 'hi a' }, timeoutMs: 120_000 });
    const b = await Sandbox.create({ ...daemon.conn, limits: { memoryMiB: 256 }, metadata: { task: 'b' } });
    expect(a.id).not.toBe(b.id);
    expect(a.lastKnown).toMatchObject({ state: 'running', metadata: { task: 'a' }, limits: { memoryMiB: 256 } });
    expect(Date.parse(a.lastKnown.expiresAt ?? '') - Date.parse(a.lastKnown.createdAt)).toBe(120_000);
    expect(Date.now() - Date.parse(a.lastKnown.createdAt)).toBeLessThan(5000);
    // As fresh as a new one: its own hostname, the caller's environment, nothing left by anyone.
    expect((await a.commands.run(['sh', '-c', 'hostname; echo $GREETING; ls -A /work | wc -l'])).stdout).toBe(`${a.id}\nhi a\n0\n`);
    await a.files.write('/work/from-a', 'a');
    expect(await b.files.exists('/work/from-a')).toBe(false);
    expect((await Sandbox.list(daemon.conn)).map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
    // Other limits: not from this pool.
    const other = await Sandbox.create({ ...daemon.conn, limits: { memoryMiB: 300 } });
    await expect.poll(() => readyOf(pool.id), { timeout: 30_000 }).toBe(2);
    const info = (await Pools.list(daemon.conn)).find((p) => p.id === pool.id);
    expect(info).toMatchObject({ hits: 2, misses: 0, size: 2 });
    expect(info?.lastRefillMs).toBeGreaterThan(0);
    // Emptied, a matching create is a miss and still works.
    await Pools.set({ template: 'base', size: 0, limits: { memoryMiB: 256 } }, daemon.conn);
    await expect.poll(() => readyOf(pool.id), { timeout: 30_000 }).toBe(0);
    const missed = await Sandbox.create({ ...daemon.conn, limits: { memoryMiB: 256 } });
    expect((await Pools.list(daemon.conn)).find((p) => p.id === pool.id)?.misses).toBe(1);
    await Promise.all([a, b, other, missed].map((s) => s.kill()));
    await Pools.remove(pool.id, daemon.conn);
  });

  it('are refused to agents, and claims count against the claimer’s quota', async () => {
    const post = (path: string, body: unknown, token = daemon.token) =>
      fetch(`${daemon.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/v1/tenants', { name: 'pooled', maxSandboxes: 1 })).status).toBe(201);
    const token = ((await (await post('/v1/tokens', { tenant: 'pooled', role: 'agent' })).json()) as { token: string }).token;
    expect((await post('/v1/pools', { template: 'base', size: 1 }, token)).status).toBe(403);
    const pool = await Pools.set({ template: 'base', size: 2 }, daemon.conn);
    await expect.poll(() => readyOf(pool.id), { timeout: 30_000 }).toBe(2);
    const first = await Sandbox.create({ url: daemon.url, token });
    await expect(Sandbox.create({ url: daemon.url, token })).rejects.toMatchObject({ code: 'quota_exceeded' });
    await first.kill();
    await Pools.remove(pool.id, daemon.conn);
  });
});
