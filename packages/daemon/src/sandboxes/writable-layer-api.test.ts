import { Pools, Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config/daemon-config.js';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';
import { runCli } from '../testing/run-cli.js';

// Choosing a sandbox's writable layer (tmpfs or disk) through the API, the
// CLI and the operator's default, as the daemon records and passes it on.
// What a disk-backed layer is on a real host is in disk-layers.test.ts.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let daemon: FastDaemon;
let diskDefault: FastDaemon;

beforeAll(async () => {
  [daemon, diskDefault] = await Promise.all([startFastDaemon(), startFastDaemon(['--writable-layer', 'disk'])]);
});

afterAll(async () => {
  await Promise.all([daemon?.stop(), diskDefault?.stop()]);
});

/** The writable layer the daemon asked the host for, for the last launch of `id`. */
const launchedLayer = (host: FastDaemon, id: string) => host.host.launches.findLast((l) => l.id === id)?.writableLayer;

describe('writable layers', () => {
  it('are tmpfs unless a create asks for disk; the sandbox shows which, and a fork keeps its parent’s', async () => {
    const plain = await Sandbox.create({ ...daemon.conn });
    expect(plain.lastKnown.writableLayer).toBe('tmpfs');
    expect(launchedLayer(daemon, plain.id)).toBe('tmpfs');
    const disk = await Sandbox.create({ ...daemon.conn, writableLayer: 'disk', limits: { diskMiB: 64 } });
    expect(disk.lastKnown).toMatchObject({ writableLayer: 'disk', limits: { diskMiB: 64 } });
    expect(launchedLayer(daemon, disk.id)).toBe('disk');
    expect((await Sandbox.connect(disk.id, daemon.conn)).lastKnown.writableLayer).toBe('disk');
    const fork = await disk.fork();
    expect(fork.lastKnown.writableLayer).toBe('disk');
    expect(launchedLayer(daemon, fork.id)).toBe('disk');
    await Promise.all([plain.kill(), disk.kill(), fork.kill()]);
  });

  it('refuses an unknown kind with 400 naming the field, and makes nothing', async () => {
    const before = await Sandbox.list({ ...daemon.conn, state: 'all' });
    const res = await daemon.api('/v1/sandboxes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ template: 'base', writableLayer: 'floppy' }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: 'invalid_request', details: { fields: [expect.objectContaining({ path: 'writableLayer' })] } });
    expect(await Sandbox.list({ ...daemon.conn, state: 'all' })).toHaveLength(before.length);
  });

  it("follow the operator's default (paddockd --writable-layer), which a create can override; a bad default stops the daemon at start", async () => {
    const byDefault = await Sandbox.create({ ...diskDefault.conn });
    expect(byDefault.lastKnown.writableLayer).toBe('disk');
    expect(launchedLayer(diskDefault, byDefault.id)).toBe('disk');
    const inMemory = await Sandbox.create({ ...diskDefault.conn, writableLayer: 'tmpfs' });
    expect(inMemory.lastKnown.writableLayer).toBe('tmpfs');
    await Promise.all([byDefault.kill(), inMemory.kill()]);
    expect(() => loadConfig(['--writable-layer', 'ram'], {})).toThrow(/--writable-layer: "ram" is not one of tmpfs, disk/);
    expect(() => loadConfig([], { PADDOCK_WRITABLE_LAYER: 'ram' })).toThrow(/PADDOCK_WRITABLE_LAYER: "ram" is not one of tmpfs, disk/);
  });

  it('a warm pool (made with the default) serves only creates asking for the same kind', async () => {
    const pool = await Pools.set({ template: 'base', size: 1, limits: { memoryMiB: 200 } }, daemon.conn);
    const ready = async () => (await Pools.list(daemon.conn)).find((p) => p.id === pool.id)?.ready;
    await expect.poll(ready, { timeout: 30_000 }).toBe(1);
    const disk = await Sandbox.create({ ...daemon.conn, writableLayer: 'disk', limits: { memoryMiB: 200 } });
    expect(disk.lastKnown.writableLayer).toBe('disk');
    expect(launchedLayer(daemon, disk.id)).toBe('disk');
    expect((await Pools.list(daemon.conn)).find((p) => p.id === pool.id)).toMatchObject({ hits: 0, ready: 1 });
    const pooled = await Sandbox.create({ ...daemon.conn, writableLayer: 'tmpfs', limits: { memoryMiB: 200 } });
    expect(pooled.lastKnown.writableLayer).toBe('tmpfs');
    expect((await Pools.list(daemon.conn)).find((p) => p.id === pool.id)?.hits).toBe(1);
    await Promise.all([disk.kill(), pooled.kill()]);
    await Pools.remove(pool.id, daemon.conn);
  });

  it('paddock create --disk-backed and --writable-layer ask for them; bad values exit 2 with one line', async () => {
    const paddock = (args: string[]) => runCli(args, { env: daemon.env });
    const created = await paddock(['create', '--disk', '64m', '--disk-backed', '--json']);
    expect(created.code).toBe(0);
    const info = JSON.parse(created.stdout) as { id: string; writableLayer: string; limits: { diskMiB: number } };
    expect(info).toMatchObject({ writableLayer: 'disk', limits: { diskMiB: 64 } });
    expect(launchedLayer(daemon, info.id)).toBe('disk');
    const tmpfs = JSON.parse((await paddock(['create', '--writable-layer', 'tmpfs', '--json'])).stdout) as { id: string; writableLayer: string };
    expect(tmpfs.writableLayer).toBe('tmpfs');
    expect(await paddock(['create', '--writable-layer', 'floppy'])).toMatchObject({
      code: 2,
      stderr: 'paddock: --writable-layer: expected tmpfs or disk, got "floppy"\n',
    });
    expect(await paddock(['run', '--disk-backed', '--writable-layer', 'tmpfs', '--', 'true'])).toMatchObject({
      code: 2,
      stderr: 'paddock: --disk-backed and --writable-layer tmpfs contradict each other\n',
    });
    for (const id of [info.id, tmpfs.id]) expect((await paddock(['kill', id])).code).toBe(0);
  });
});
