import { Sandbox, TemplateNotFoundError, ValidationError } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupCpuSeconds, hostFootprint } from '../testing/host-probe.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

describe('sandbox lifecycle', () => {
  it('creates, lists by label and state, inspects and kills', async () => {
    const a = await Sandbox.create({ ...daemon.conn, metadata: { task: 'alpha', team: 'x' }, timeoutMs: 600_000 });
    const b = await Sandbox.create({ ...daemon.conn, metadata: { task: 'beta', team: 'x' } });
    expect(a.lastKnown).toMatchObject({ template: 'base', state: 'running', tier: 'container', metadata: { task: 'alpha' } });
    expect(a.lastKnown.limits).toEqual({ memoryMiB: 512, cpus: 1, pids: 512, diskMiB: 1024 });
    expect(Date.parse(a.lastKnown.expiresAt ?? '') - Date.parse(a.lastKnown.createdAt)).toBe(600_000);

    const team = await Sandbox.list({ ...daemon.conn, metadata: { team: 'x' } });
    expect(team.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
    const alpha = await Sandbox.list({ ...daemon.conn, metadata: { task: 'alpha' } });
    expect(alpha.map((s) => s.id)).toEqual([a.id]);

    await b.kill();
    expect((await Sandbox.list({ ...daemon.conn, metadata: { team: 'x' } })).map((s) => s.id)).toEqual([a.id]);
    const killed = await Sandbox.list({ ...daemon.conn, state: 'killed', metadata: { team: 'x' } });
    expect(killed.map((s) => s.id)).toEqual([b.id]);
    await a.kill();
  });

  it('reconnects with Sandbox.connect from another client', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    await sbx.files.write('/work/note.txt', 'hello');
    const again = await Sandbox.connect(sbx.id, daemon.conn);
    expect(await again.files.read('/work/note.txt')).toBe('hello');
    await again.kill();
  });

  it('refuses bad requests with the failing field named and makes nothing', async () => {
    const before = await Sandbox.list({ ...daemon.conn, state: 'all' });
    await expect(Sandbox.create({ ...daemon.conn, template: 'no-such-template' })).rejects.toBeInstanceOf(TemplateNotFoundError);
    const err = await Sandbox.create({ ...daemon.conn, limits: { memoryMiB: -5 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details.fields).toEqual([expect.objectContaining({ path: 'limits.memoryMiB' })]);
    const res = await daemon.api('/v1/sandboxes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ template: 'base', limits: { cpus: 'two' } }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.details.fields[0].path).toBe('limits.cpus');
    const after = await Sandbox.list({ ...daemon.conn, state: 'all' });
    expect(after.length).toBe(before.length);
  });

  it('extends the timeout with setTimeout', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, timeoutMs: 3000 });
    await sbx.setTimeout(60_000);
    await new Promise((r) => setTimeout(r, 4000));
    expect(await sbx.isRunning()).toBe(true);
    await sbx.kill();
  });

  it.each(['container', 'gvisor'] as const)(
    'pause holds the CPU at zero, survives a daemon restart, and resume continues the same processes (%s tier)',
    async (tier) => {
      const sbx = await Sandbox.create({ ...daemon.conn, tier });
      const spinner = await sbx.commands.start(['python3', '-c', 'import os\nprint(os.getpid(), flush=True)\nwhile True: pass']);
      await new Promise((r) => setTimeout(r, 500));
      const pidBefore = (await sbx.commands.run(['pgrep', '-f', 'while True'])).stdout.trim();
      await sbx.pause();
      const cpu0 = cgroupCpuSeconds(daemon.stateDir, sbx.id);
      await new Promise((r) => setTimeout(r, 1000));
      expect(cgroupCpuSeconds(daemon.stateDir, sbx.id) - cpu0).toBeLessThan(0.02);
      await daemon.crash();
      await daemon.restart();
      const again = await Sandbox.connect(sbx.id, daemon.conn);
      expect(again.lastKnown.state).toBe('paused');
      await again.resume();
      await new Promise((r) => setTimeout(r, 500));
      expect((await again.commands.run(['pgrep', '-f', 'while True'])).stdout.trim()).toBe(pidBefore);
      const cpu1 = cgroupCpuSeconds(daemon.stateDir, sbx.id);
      await new Promise((r) => setTimeout(r, 500));
      expect(cgroupCpuSeconds(daemon.stateDir, sbx.id) - cpu1).toBeGreaterThan(0.1);
      void spinner;
      await again.kill();
    },
  );

  it('pauses instead of killing at the timeout when asked (auto-pause)', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, timeoutMs: 2000, onTimeout: 'pause' });
    expect(sbx.lastKnown.onTimeout).toBe('pause');
    await sbx.files.write('/work/state', 'kept');
    await expect.poll(async () => (await sbx.getInfo()).state, { timeout: 8000, interval: 200 }).toBe('paused');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await sbx.getInfo()).state).toBe('paused');
    await sbx.resume();
    expect(await sbx.files.read('/work/state')).toBe('kept');
    expect(Date.parse((await sbx.getInfo()).expiresAt ?? '') - Date.now()).toBeGreaterThan(4 * 60_000);
    await sbx.kill();
  });

  it('stops the timeout clock while paused', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, timeoutMs: 3000 });
    await sbx.pause();
    expect((await sbx.getInfo()).expiresAt).toBeNull();
    await new Promise((r) => setTimeout(r, 3500));
    expect((await sbx.getInfo()).state).toBe('paused');
    await sbx.resume();
    const expiresAt = Date.parse((await sbx.getInfo()).expiresAt ?? '');
    expect(expiresAt - Date.now()).toBeGreaterThan(1000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(3000);
    expect((await sbx.commands.run(['echo', 'still here'])).stdout).toBe('still here\n');
    await expect.poll(async () => (await sbx.getInfo()).endReason, { timeout: 8000, interval: 200 }).toBe('timeout');
  });

  it('pauses and resumes a sandbox', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    await sbx.pause();
    expect((await sbx.getInfo()).state).toBe('paused');
    await expect(sbx.commands.run(['true'])).rejects.toMatchObject({ code: 'sandbox_paused' });
    await sbx.resume();
    expect((await sbx.commands.run(['echo', 'back'])).stdout).toBe('back\n');
    await sbx.kill();
  });

  it('creates 50 sandboxes at once; all work and all clean up', async () => {
    const created = await Promise.all(Array.from({ length: 50 }, (_, i) => Sandbox.create({ ...daemon.conn, metadata: { batch: 'fifty', n: String(i) } })));
    expect(new Set(created.map((s) => s.id)).size).toBe(50);
    const outputs = await Promise.all(created.map((s, i) => s.commands.run(['sh', '-c', `echo ${i}; hostname`])));
    for (const [i, r] of outputs.entries()) expect(r.stdout).toBe(`${i}\n${created[i]?.id}\n`);
    await Promise.all(created.map((s) => s.kill()));
    for (const s of created) expect(hostFootprint(daemon.stateDir, s.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [] });
    expect(await Sandbox.list({ ...daemon.conn, metadata: { batch: 'fifty' } })).toEqual([]);
  });
});
