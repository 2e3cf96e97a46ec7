import { ProcessNotFoundError, Sandbox, TemplateNotFoundError, ValidationError } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';

// The lifecycle as the API keeps it: listing by label and state, requests it
// refuses, timeouts extended, auto-pause and the clock stopped while paused.
// What needs real sandboxes (a frozen cgroup, nothing left on the host) is in
// lifecycle.test.ts.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

/**
 * Waits until the daemon's timeout clock has passed `deadline`, as the daemon
 * itself proves it: a sandbox made now to time out just after it has ended for
 * its timeout. The daemon fires timeouts in the order they fall due, ending a
 * sandbox at once (its record first), so one due before has fired by then.
 */
async function daemonClockPassed(deadline: string | null): Promise<void> {
  const timeoutMs = Math.max(1000, Date.parse(deadline ?? '') - Date.now() + 100);
  const marker = await Sandbox.create({ ...daemon.conn, timeoutMs });
  await expect.poll(async () => (await marker.getInfo()).endReason, { timeout: timeoutMs + 20_000, interval: 100 }).toBe('timeout');
}

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
    const firstDeadline = sbx.lastKnown.expiresAt;
    await sbx.setTimeout(60_000);
    await daemonClockPassed(firstDeadline);
    expect(await sbx.isRunning()).toBe(true);
    await sbx.kill();
  });
  it('pauses instead of killing at the timeout when asked (auto-pause)', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, timeoutMs: 2000, onTimeout: 'pause' });
    expect(sbx.lastKnown.onTimeout).toBe('pause');
    await sbx.files.write('/work/state', 'kept');
    await expect.poll(async () => (await sbx.getInfo()).state, { timeout: 8000, interval: 200 }).toBe('paused');
    // Still paused a second of the daemon's timeouts later: not killed after it.
    await daemonClockPassed(new Date(Date.now() + 1000).toISOString());
    expect((await sbx.getInfo()).state).toBe('paused');
    await sbx.resume();
    expect(await sbx.files.read('/work/state')).toBe('kept');
    expect(Date.parse((await sbx.getInfo()).expiresAt ?? '') - Date.now()).toBeGreaterThan(4 * 60_000);
    await sbx.kill();
  });
  it('stops the timeout clock while paused', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, timeoutMs: 3000 });
    const firstDeadline = sbx.lastKnown.expiresAt;
    await sbx.pause();
    expect((await sbx.getInfo()).expiresAt).toBeNull();
    await daemonClockPassed(firstDeadline);
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

  it('answers 404 for a process the sandbox does not have', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    await expect(sbx.commands.kill(999_999)).rejects.toBeInstanceOf(ProcessNotFoundError);
    await sbx.kill();
  });
});
