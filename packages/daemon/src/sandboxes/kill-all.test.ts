import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';
import { ManualClock } from '../testing/manual-clock.js';
import { processAlive } from '../testing/process-alive.js';

// Many sandboxes ended together (DELETE /v1/sandboxes, timeouts falling due at
// once): every one is ended at once (no new work reaches any) and its
// processes killed, and the teardowns run a few at a time: thousands begun
// together held the event loop for seconds and doubled the daemon's memory.
let daemon: FastDaemon;
// Timeouts fall due when this clock is moved.
const clock = new ManualClock();

beforeAll(async () => {
  daemon = await startFastDaemon([], {}, { clock });
});

afterAll(async () => {
  await daemon?.stop();
});

/** Holds every teardown of the host until released; counts how many are under way at once. */
function holdTeardowns(host: FastDaemon['host']) {
  const destroy = host.destroy.bind(host);
  const held: Array<() => void> = [];
  const state = { running: 0, most: 0, started: [] as string[] };
  host.destroy = async (id: string) => {
    state.running += 1;
    state.most = Math.max(state.most, state.running);
    state.started.push(id);
    await new Promise<void>((resolve) => held.push(resolve));
    try {
      await destroy(id);
    } finally {
      state.running -= 1;
    }
  };
  return {
    state,
    /** Lets every teardown held so far go on. */
    release: () => {
      for (const go of held.splice(0)) go();
    },
    restore: () => {
      host.destroy = destroy;
    },
  };
}

/** What each start of the daemon said it reconciled, oldest first. */
function reconciled(): Array<{ finished: number }> {
  return daemon
    .log()
    .split('\n')
    .filter((line) => line.includes('"reconciled sandboxes"'))
    .map((line) => JSON.parse(line) as { finished: number });
}

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** 40 sandboxes, each running `sleep 1000` (a host process on the fast tier: its pid is the host's). */
async function fortyBusy(batch: string, timeoutMs?: number) {
  const sandboxes = await Promise.all(Array.from({ length: 40 }, () => Sandbox.create({ ...daemon.conn, metadata: { batch }, timeoutMs })));
  const sleepers = await Promise.all(sandboxes.map((s) => s.commands.start(['sleep', '1000'])));
  const alive = () => sleepers.filter((c) => processAlive(c.pid)).length;
  expect(alive()).toBe(40);
  return { sandboxes, alive };
}

/** Nothing of these sandboxes is left on the (fake) host. */
async function expectGoneFromHost(ids: string[]) {
  const onHost = await daemon.host.hostSandboxIds();
  expect(ids.filter((id) => onHost.has(id))).toEqual([]);
}

/** Lets held teardowns go in rounds until `done` says so. */
async function releaseUntil(hold: ReturnType<typeof holdTeardowns>, done: () => boolean | Promise<boolean>) {
  while (!(await done())) {
    hold.release();
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ending many sandboxes at once', () => {
  it('kill --all ends every sandbox and kills its processes at once, and tears them down a bounded number at a time', async () => {
    const { sandboxes, alive } = await fortyBusy('kill-all');
    const hold = holdTeardowns(daemon.host);
    try {
      const killAll = daemon.api('/v1/sandboxes', { method: 'DELETE' });
      await expect.poll(() => hold.state.started.length).toBeGreaterThan(0);
      // Ended for the API before their teardown: nothing new reaches any of them.
      const waiting = sandboxes.find((s) => !hold.state.started.includes(s.id));
      if (!waiting) throw new Error('every teardown began at once');
      const exec = await daemon.api(`/v1/sandboxes/${waiting.id}/exec`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: ['true'] }),
      });
      expect(exec.status).toBe(404);
      expect(await (await daemon.api(`/v1/sandboxes/${waiting.id}`)).json()).toMatchObject({ state: 'killed', endReason: 'killed' });
      expect((await daemon.api(`/v1/sandboxes/${waiting.id}`, { method: 'DELETE' })).status).toBe(404);
      // A sandbox killed on its own meanwhile does not wait behind the kill-all's teardowns.
      const other = await Sandbox.create({ ...daemon.conn, metadata: { batch: 'kill-all' } });
      expect((await daemon.api(`/v1/sandboxes/${other.id}?wait=false`, { method: 'DELETE' })).status).toBe(200);
      await expect.poll(() => hold.state.started.includes(other.id)).toBe(true);
      // Every sandbox's processes are dead already, those whose teardown has not begun too.
      await expect.poll(alive).toBe(0);
      expect(hold.state.started.length).toBeLessThan(40);
      // Released in rounds until the kill-all answers.
      let answered = false;
      void killAll.then(() => {
        answered = true;
      });
      await releaseUntil(hold, () => answered);
      const res = await killAll;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { killed: string[] }).killed.sort()).toEqual(sandboxes.map((s) => s.id).sort());
      expect(hold.state.most).toBeGreaterThan(1);
      // Sixteen of the kill-all's, and the kill of one beside them.
      expect(hold.state.most).toBeLessThanOrEqual(17);
      expect(hold.state.started.sort()).toEqual([...sandboxes.map((s) => s.id), other.id].sort());
      await expectGoneFromHost([...sandboxes.map((s) => s.id), other.id]);
    } finally {
      hold.release();
      hold.restore();
    }
  });

  it('a daemon stopped while teardowns wait their turn: the next start finishes them, the tokens made for those sandboxes revoked too', async () => {
    // E2B's sandboxes each get a token for that sandbox alone, revoked when it ends: a visible part of a teardown.
    const key = (await (await daemon.api('/v1/tokens', json({ role: 'operator', e2b: true }))).json()) as { token: string };
    const made = await Promise.all(
      Array.from({ length: 24 }, async () => {
        const res = await fetch(`${daemon.url}/e2b/v2/sandboxes`, {
          method: 'POST',
          headers: { 'x-api-key': key.token, 'content-type': 'application/json' },
          body: JSON.stringify({ templateID: 'base', metadata: { batch: 'stopped-mid-queue' } }),
        });
        expect(res.status).toBe(201);
        return (await res.json()) as { sandboxID: string; envdAccessToken: string };
      }),
    );
    const whoami = async (token: string) => (await fetch(`${daemon.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await whoami(made[0]?.envdAccessToken ?? '')).toBe(200);
    const hold = holdTeardowns(daemon.host);
    let stillHeld = false;
    try {
      void daemon.api('/v1/sandboxes', { method: 'DELETE' }).catch(() => {});
      await expect.poll(() => hold.state.started.length).toBe(16);
      // Stopped (as a crash would) with 16 teardowns under way and 8 waiting: those never finish in this daemon.
      await daemon.crash();
      stillHeld = true;
      hold.restore();
      await daemon.restart();
      for (const { envdAccessToken } of made) expect(await whoami(envdAccessToken)).toBe(401);
      await expectGoneFromHost(made.map((m) => m.sandboxID));
      for (const { sandboxID } of made) {
        expect(await (await daemon.api(`/v1/sandboxes/${sandboxID}`)).json()).toMatchObject({ state: 'killed', endReason: 'killed' });
      }
      // Finished teardowns are not owed any more: the start after finds none to do.
      await daemon.crash();
      await daemon.restart();
      expect(reconciled().map((r) => r.finished)).toEqual([0, 24, 0]);
    } finally {
      if (!stillHeld) hold.release();
      hold.restore();
    }
  });

  it('a tenant whose killed sandboxes are still being torn down is not removed until they are (their rows stay until then)', async () => {
    expect((await daemon.api('/v1/tenants', json({ name: 'ending' }))).status).toBe(201);
    const agent = (await (await daemon.api('/v1/tokens', json({ tenant: 'ending', role: 'agent' }))).json()) as { token: string };
    const sandbox = await Sandbox.create({ url: daemon.url, token: agent.token });
    const hold = holdTeardowns(daemon.host);
    try {
      const kill = await daemon.api(`/v1/sandboxes/${sandbox.id}?wait=false`, { method: 'DELETE', headers: { authorization: `Bearer ${agent.token}` } });
      expect(kill.status).toBe(200);
      await expect.poll(() => hold.state.started.includes(sandbox.id)).toBe(true);
      const refused = await daemon.api('/v1/tenants/ending', { method: 'DELETE' });
      expect(refused.status).toBe(409);
      expect(await refused.json()).toMatchObject({ error: { code: 'tenant_in_use', details: { endingSandboxes: 1 } } });
      hold.release();
      await expect.poll(async () => (await daemon.api('/v1/tenants/ending', { method: 'DELETE' })).status).toBe(200);
    } finally {
      hold.release();
      hold.restore();
    }
  });

  it('timeouts falling due together: every sandbox ended and its processes killed at once, torn down a bounded number at a time', async () => {
    const { sandboxes, alive } = await fortyBusy('timeouts', 60_000);
    const hold = holdTeardowns(daemon.host);
    try {
      clock.advance(61_000);
      await expect.poll(alive).toBe(0);
      expect(hold.state.started.length).toBeLessThanOrEqual(16);
      for (const s of sandboxes) expect(await (await daemon.api(`/v1/sandboxes/${s.id}`)).json()).toMatchObject({ state: 'killed', endReason: 'timeout' });
      await releaseUntil(hold, () => hold.state.started.length === 40 && hold.state.running === 0);
      expect(hold.state.most).toBeGreaterThan(1);
      expect(hold.state.most).toBeLessThanOrEqual(16);
      await expectGoneFromHost(sandboxes.map((s) => s.id));
    } finally {
      hold.release();
      hold.restore();
    }
  });
});
