import { ProcessNotFoundError, Sandbox, TemplateNotFoundError, ValidationError } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';
import { ManualClock } from '../testing/manual-clock.js';

// The lifecycle as the API keeps it: listing by label and state, requests it
// refuses, timeouts extended, auto-pause and the clock stopped while paused.
// What needs real sandboxes (a frozen cgroup, nothing left on the host) is in
// lifecycle.test.ts.
let daemon: FastDaemon;
// The daemon's timeouts fall due when this clock is moved, not after real waiting.
const clock = new ManualClock();

beforeAll(async () => {
  daemon = await startFastDaemon([], {}, { clock });
});

afterAll(async () => {
  await daemon?.stop();
});

const endReason = async (sbx: Sandbox) => (await sbx.getInfo()).endReason;

describe('sandbox lifecycle', () => {
  it('shows who made each sandbox: the person its token acts for, in the info, the list and a fork by someone else', async () => {
    const mint = async (body: Record<string, string>) => {
      const res = await daemon.api('/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { token: string }).token;
    };
    const alice = await mint({ role: 'operator', owner: 'alice@example.com' });
    const bot = await mint({ role: 'agent', owner: 'agent:ci-bot' });
    const mine = await Sandbox.create({ url: daemon.url, token: alice, metadata: { owners: 'test' } });
    const its = await Sandbox.create({ url: daemon.url, token: bot, metadata: { owners: 'test' } });
    expect(mine.lastKnown.owner).toBe('alice@example.com');
    expect(its.lastKnown.owner).toBe('agent:ci-bot');
    const listed = await Sandbox.list({ ...daemon.conn, metadata: { owners: 'test' } });
    expect(Object.fromEntries(listed.map((s) => [s.id, s.owner]))).toEqual({ [mine.id]: 'alice@example.com', [its.id]: 'agent:ci-bot' });
    // The admin's own sandbox is the admin's; a fork is the forker's, whoever made the source.
    const forked = await Sandbox.connect(its.id, daemon.conn).then((s) => s.fork());
    expect(forked.lastKnown.owner).toBe('admin');
    expect((await Sandbox.connect(mine.id, { url: daemon.url, token: bot })).lastKnown.owner).toBe('alice@example.com');
    await Promise.all([mine.kill(), its.kill(), forked.kill()]);
  });

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
    clock.advance(3100);
    expect(await sbx.isRunning()).toBe(true);
    clock.advance(60_000);
    await expect.poll(() => endReason(sbx)).toBe('timeout');
  });
  it('pauses instead of killing at the timeout when asked (auto-pause)', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, timeoutMs: 2000, onTimeout: 'pause' });
    expect(sbx.lastKnown.onTimeout).toBe('pause');
    await sbx.files.write('/work/state', 'kept');
    clock.advance(2000);
    await expect.poll(async () => (await sbx.getInfo()).state).toBe('paused');
    // Still paused long after: not killed at some later deadline.
    clock.advance(10 * 60_000);
    expect((await sbx.getInfo()).state).toBe('paused');
    await sbx.resume();
    expect(await sbx.files.read('/work/state')).toBe('kept');
    expect(Date.parse((await sbx.getInfo()).expiresAt ?? '') - clock.now()).toBeGreaterThan(4 * 60_000);
    await sbx.kill();
  });
  /**
   * A sandbox (auto-pause in 2 s) whose checkpoint's copy is held on the host
   * past that timeout; `meanwhile` runs while it is held, then the copy ends.
   */
  const pauseDueDuringCopy = async (meanwhile: (sbx: Sandbox) => Promise<void>): Promise<Sandbox> => {
    const sbx = await Sandbox.create({ ...daemon.conn, timeoutMs: 2000, onTimeout: 'pause' });
    const copy = daemon.host.holdCopies();
    try {
      const checkpoint = sbx.checkpoint();
      await expect.poll(() => copy.copying()).toBe(true);
      clock.advance(2000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await meanwhile(sbx);
      copy.release();
      await checkpoint;
    } finally {
      copy.release();
    }
    return sbx;
  };
  it('an auto-pause that falls due while the sandbox’s files are copied comes as soon as the copy is done, before any other operation', async () => {
    const sbx = await pauseDueDuringCopy(async (held) => {
      // A real copy freezes the sandbox and thaws it when done: a pause under it would be undone.
      expect((await held.getInfo()).state).toBe('running');
      clock.advance(60_000);
      expect((await held.getInfo()).state).toBe('running');
    });
    // A client copying back to back does not hold the pause off: the next copy, asked at once, does not go first
    // (a paused sandbox may still be copied), and no later tick of the clock is needed.
    await sbx.checkpoint().catch(() => undefined);
    expect((await sbx.getInfo()).state).toBe('paused');
    await sbx.kill();
  });
  it('a timeout set while an auto-pause waits for a copy cancels that pause', async () => {
    const sbx = await pauseDueDuringCopy(async (held) => {
      await held.setTimeout(60_000);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await sbx.getInfo()).state).toBe('running');
    // The new timeout still pauses it when it falls due.
    clock.advance(60_000);
    await expect.poll(async () => (await sbx.getInfo()).state).toBe('paused');
    await sbx.kill();
  });
  it('stops the timeout clock while paused', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, timeoutMs: 3000 });
    clock.advance(1000);
    await sbx.pause();
    expect((await sbx.getInfo()).expiresAt).toBeNull();
    clock.advance(60_000);
    expect((await sbx.getInfo()).state).toBe('paused');
    await sbx.resume();
    // The two seconds it had left when paused, to the millisecond.
    expect(Date.parse((await sbx.getInfo()).expiresAt ?? '') - clock.now()).toBe(2000);
    expect((await sbx.commands.run(['echo', 'still here'])).stdout).toBe('still here\n');
    clock.advance(1999);
    expect(await sbx.isRunning()).toBe(true);
    clock.advance(1);
    await expect.poll(() => endReason(sbx)).toBe('timeout');
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
