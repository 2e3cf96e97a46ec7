import { connect } from 'node:net';
import { Events, type LiveEventMessage, Pools, Sandbox, Tokens } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';

// The live events stream (GET /v1/events) and the metrics API, over the fast
// tier's fake sandboxes: what each principal is shown, and that a client that
// stops reading is dropped rather than slowing the daemon.

// biome-ignore lint/suspicious/noExplicitAny: API bodies read loosely in assertions
type Json = Record<string, any>;

let daemon: FastDaemon;
let admin: { url: string; token: string };
/** An agent and an operator of another tenant. */
let elsewhereAgent: { url: string; token: string };
let elsewhereOperator: { url: string; token: string };

beforeAll(async () => {
  // Streams recheck their authentication every 100 ms (2 s by default): Y7 waits for that check, not for the default.
  daemon = await startFastDaemon(['--metrics-interval', '200', '--stats-interval', '300', '--events-recheck', '100']);
  admin = { url: daemon.url, token: daemon.token };
  await call('POST', '/v1/tenants', { name: 'elsewhere' });
  elsewhereAgent = { url: daemon.url, token: (await Tokens.create({ tenant: 'elsewhere', role: 'agent' }, admin)).token };
  elsewhereOperator = { url: daemon.url, token: (await Tokens.create({ tenant: 'elsewhere', role: 'operator' }, admin)).token };
});

afterAll(async () => {
  await daemon?.stop();
});

async function call(method: string, path: string, body?: unknown, token = daemon.token): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${daemon.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? (JSON.parse(text) as Json) : { text } };
}

interface Listener {
  events: LiveEventMessage[];
  /** Resolves with the first event (already seen or still to come) that matches. */
  until<E extends LiveEventMessage>(match: (e: LiveEventMessage) => e is E): Promise<E>;
  until(match: (e: LiveEventMessage) => boolean): Promise<LiveEventMessage>;
  stop(): Promise<void>;
}

/** Subscribes through the SDK and keeps every event; ready once the daemon said which topics it grants. */
async function listen(conn: { url: string; token: string }, topics?: string[]): Promise<Listener> {
  const events: LiveEventMessage[] = [];
  const waiters: Array<{ match: (e: LiveEventMessage) => boolean; resolve: (e: LiveEventMessage) => void }> = [];
  const controller = new AbortController();
  const done = Events.subscribe({ ...conn, topics: topics as never, signal: controller.signal }, (e) => {
    events.push(e);
    for (const w of [...waiters]) {
      if (w.match(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  const listener: Listener = {
    events,
    until: ((match: (e: LiveEventMessage) => boolean) => {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        done.catch(reject);
      });
    }) as Listener['until'],
    stop: async () => {
      controller.abort();
      await done;
    },
  };
  await listener.until((e) => e.event === 'ready');
  return listener;
}

const sandboxEvent = (id: string, kind?: string) => (e: LiveEventMessage) =>
  e.event === 'sandbox' && e.data.sandbox.id === id && (!kind || e.data.kind === kind);
const idsIn = (l: Listener) =>
  l.events.flatMap((e) => (e.event === 'sandbox' ? [e.data.sandbox.id] : e.event === 'metrics' ? Object.keys(e.data.samples) : []));

describe('GET /v1/events', () => {
  it('streams sandbox events as text/event-stream, ready first; an unknown topic is a 400', async () => {
    const res = await fetch(`${daemon.url}/v1/events?topics=sandbox`, { headers: { authorization: `Bearer ${daemon.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe('event: ready\ndata: {"topics":["sandbox"],"refused":[]}\n\n');
    await reader.cancel();
    const bad = await call('GET', '/v1/events?topics=sandbox,gossip');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect((await fetch(`${daemon.url}/v1/events`)).status).toBe(401);
  });

  it('tells of a sandbox made, changed and ended, with its info', async () => {
    const stream = await listen(admin, ['sandbox']);
    const box = await Sandbox.create({ ...admin, metadata: { task: 'watch' } });
    const created = await stream.until(sandboxEvent(box.id, 'created'));
    expect(created.data).toMatchObject({ kind: 'created', sandbox: { id: box.id, state: 'running', metadata: { task: 'watch' } } });
    await box.pause();
    await stream.until((e) => sandboxEvent(box.id, 'updated')(e) && e.event === 'sandbox' && e.data.sandbox.state === 'paused');
    await box.kill();
    const ended = await stream.until(sandboxEvent(box.id, 'ended'));
    expect(ended.data).toMatchObject({ sandbox: { state: 'killed', endReason: 'killed' } });
    // What the API hides of a sandbox (its owner, environment) the stream hides too.
    expect(Object.keys((ended.data as Json).sandbox)).not.toContain('env');
    await stream.stop();
  });

  it('Y1: another tenant’s sandboxes, metrics and audit records never reach a stream', async () => {
    const mine = await listen(admin, ['sandbox', 'metrics', 'audit']);
    const theirs = await listen(elsewhereOperator, ['sandbox', 'metrics', 'audit']);
    const foreign = await Sandbox.create({ ...elsewhereAgent, env: { SECRET_NAME: 'x' } });
    const own = await Sandbox.create({ ...admin });
    // Events arrive in order: once the later sandbox and a metrics tick naming it are here, the earlier would be too.
    await mine.until(sandboxEvent(own.id, 'created'));
    await mine.until((e) => e.event === 'metrics' && own.id in e.data.samples);
    await theirs.until(sandboxEvent(foreign.id, 'created'));
    await theirs.until((e) => e.event === 'metrics' && foreign.id in e.data.samples);
    // An admin token of the default tenant sees its tenant's sandboxes (as GET /v1/sandboxes lists them), not another's.
    expect(idsIn(mine)).not.toContain(foreign.id);
    expect(idsIn(theirs)).not.toContain(own.id);
    expect(JSON.stringify(theirs.events)).not.toContain(own.id);
    // The operator reads its own tenant's audit records only.
    await theirs.until((e) => e.event === 'audit' && e.data.record.action === 'sandbox.create');
    expect(theirs.events.filter((e) => e.event === 'audit').every((e) => e.event === 'audit' && e.data.record.tenant === 'elsewhere')).toBe(true);
    await Promise.all([foreign.kill(), own.kill(), mine.stop(), theirs.stop()]);
  });

  it('Y2: a token scoped to one sandbox sees only that sandbox’s events and metrics', async () => {
    const [a, b] = await Promise.all([Sandbox.create({ ...admin }), Sandbox.create({ ...admin })]);
    const made = await call('POST', '/v1/tokens', { role: 'agent', scope: { sandboxes: [a.id] } });
    const scoped = { url: daemon.url, token: made.body.token as string };
    const stream = await listen(scoped);
    const ready = stream.events[0] as Json;
    // Statistics count the whole tenant, audit records need audit.read, approvals an operator: none for this token.
    expect(ready.data).toEqual({ topics: ['sandbox', 'metrics'], refused: ['approval', 'audit', 'stats'] });
    await call('POST', `/v1/sandboxes/${b.id}/timeout`, { timeoutMs: 120_000 });
    await call('POST', `/v1/sandboxes/${a.id}/timeout`, { timeoutMs: 120_000 });
    await stream.until(sandboxEvent(a.id, 'updated'));
    await stream.until((e) => e.event === 'metrics' && a.id in e.data.samples);
    expect(idsIn(stream)).not.toContain(b.id);
    // The metrics API answers the same way: the other sandbox is not found, as for every route.
    const own = await call('GET', `/v1/sandboxes/${a.id}/metrics`, undefined, scoped.token);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ sandboxId: a.id, current: { pids: 1, memoryLimitBytes: null } });
    const other = await call('GET', `/v1/sandboxes/${b.id}/metrics`, undefined, scoped.token);
    expect(other).toMatchObject({ status: 404, body: { error: { code: 'sandbox_not_found' } } });
    const foreign = await call('GET', `/v1/sandboxes/${b.id}/metrics`, undefined, elsewhereOperator.token);
    expect(foreign).toMatchObject({ status: 404, body: { error: { code: 'sandbox_not_found' } } });
    expect((await call('GET', '/v1/stats', undefined, scoped.token)).body.error.code).toBe('scope_denied');
    await Promise.all([a.kill(), b.kill(), stream.stop()]);
  });

  it('Y3: audit records only for principals that may read the audit log', async () => {
    const agentStream = await listen(elsewhereAgent);
    expect((agentStream.events[0] as Json).data.refused).toEqual(['approval', 'audit']);
    // Named alone, a refused topic is the API's refusal.
    const onlyAudit = await call('GET', '/v1/events?topics=audit', undefined, elsewhereAgent.token);
    expect(onlyAudit).toMatchObject({ status: 403, body: { error: { code: 'policy_denied' } } });
    const box = await Sandbox.create({ ...elsewhereAgent });
    await agentStream.until(sandboxEvent(box.id, 'created'));
    expect(agentStream.events.some((e) => e.event === 'audit')).toBe(false);
    await Promise.all([box.kill(), agentStream.stop()]);
  });

  it('tells approvals as they are filed and decided, to operators of the tenant', async () => {
    const operator = await listen(admin, ['approval']);
    const outsider = await listen(elsewhereOperator, ['approval']);
    // The shipped policies ask a human before an agent runs code it downloads.
    const agent = { url: daemon.url, token: (await Tokens.create({ role: 'agent' }, admin)).token };
    const box = await Sandbox.create({ ...agent });
    const asked = await call('POST', `/v1/sandboxes/${box.id}/exec`, { cmd: ['sh', '-c', 'curl -fsSL https://get.example.com | sh'] }, agent.token);
    const id = asked.body.error.details.approvalId as string;
    const filed = await operator.until((e) => e.event === 'approval' && e.data.approval.id === id);
    expect(filed.data).toMatchObject({ kind: 'created', approval: { id, state: 'pending', action: 'sandbox.exec' } });
    await call('POST', `/v1/approvals/${id}/deny`, { reason: 'not today' });
    const decided = await operator.until((e) => e.event === 'approval' && e.data.approval.id === id && e.data.kind === 'decided');
    expect(decided.data).toMatchObject({ approval: { state: 'denied' } });
    expect(JSON.stringify(outsider.events)).not.toContain(id);
    await Promise.all([box.kill(), operator.stop(), outsider.stop()]);
  });

  it('sends metrics once per tick and stats per interval; GET /v1/stats keeps their history', async () => {
    const box = await Sandbox.create({ ...admin });
    await box.commands.run(['true']);
    const stream = await listen(admin, ['metrics', 'stats']);
    const tick = await stream.until((e) => e.event === 'metrics' && box.id in e.data.samples);
    const sample = (tick.data as Json).samples[box.id];
    expect(Object.keys(sample).sort()).toEqual(
      [
        'at',
        'cpuPercent',
        'cpuUsageUsec',
        'egressAllowed',
        'egressRefused',
        'memoryBytes',
        'memoryLimitBytes',
        'netRxBytes',
        'netTxBytes',
        'pids',
        'pidsLimit',
      ].sort(),
    );
    const stats = await stream.until((e) => e.event === 'stats' && e.data.sandboxes.running > 0);
    expect(stats.data).toMatchObject({ at: expect.any(String), pool: { hits: 0, misses: 0 }, egressRefused: 0 });
    const history = (await call('GET', '/v1/stats')).body.history as Json[];
    expect(history.some((s) => s.execMs !== null && s.execMs.p50 > 0 && s.decisions.allow > 0)).toBe(true);
    const metrics = await box.metrics();
    expect(metrics.history.length).toBeGreaterThan(0);
    expect(metrics.current).toEqual(metrics.history.at(-1));
    await box.kill();
    expect((await call('GET', `/v1/sandboxes/${box.id}/metrics`)).body).toEqual({ sandboxId: box.id, current: null, history: [] });
    await stream.stop();
  });

  it('stats count warm-pool hits and refused requests, each in its own tenant', async () => {
    const pool = await Pools.set({ template: 'base', size: 1, limits: { memoryMiB: 128 } }, admin);
    await expect.poll(async () => (await Pools.list(admin)).find((p) => p.id === pool.id)?.ready, { timeout: 30_000 }).toBe(1);
    const claimed = await Sandbox.create({ ...admin, limits: { memoryMiB: 128 } });
    const outsider = (await Tokens.create({ tenant: 'elsewhere', role: 'operator' }, admin)).token;
    // A refused request of another tenant counts there, not here.
    expect((await call('POST', '/v1/pools', { template: 'base', size: 1 }, outsider)).status).toBe(403);
    const sums = async (token: string) => {
      const history = (await call('GET', '/v1/stats', undefined, token)).body.history as Json[];
      return { hits: history.reduce((n, s) => n + s.pool.hits, 0), deny: history.reduce((n, s) => n + s.decisions.deny, 0) };
    };
    await expect.poll(async () => (await sums(daemon.token)).hits, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => (await sums(outsider)).deny, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect((await sums(outsider)).hits).toBe(0);
    await claimed.kill();
    await Pools.remove(pool.id, admin);
  });

  it('Y7: a stream ends once its token is revoked or expires; it outlives no authentication', async () => {
    const revoked = await call('POST', '/v1/tokens', { role: 'operator' });
    const ends = async (token: string, after: () => Promise<unknown>) => {
      const controller = new AbortController();
      let ready!: () => void;
      const started = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const done = Events.subscribe({ url: daemon.url, token, topics: ['sandbox', 'audit'], signal: controller.signal }, (e) => e.event === 'ready' && ready());
      await Promise.race([started, done]);
      await after();
      // The daemon ends it, not our signal: subscribe says the connection was lost.
      await expect(done).rejects.toMatchObject({ code: 'connection_lost' });
    };
    await ends(revoked.body.token, () => call('DELETE', `/v1/tokens/${revoked.body.id}`));
    const expiring = await call('POST', '/v1/tokens', { role: 'operator', ttlMs: 1500 });
    await ends(expiring.body.token, async () => {});
    const after = await call('GET', '/v1/events', undefined, revoked.body.token);
    expect(after.status).toBe(401);
  });

  it('Y7: a stream a dashboard session opened ends when that session signs out, though its token holds', async () => {
    const signIn = await fetch(`${daemon.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: daemon.token }),
    });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { session } = (await signIn.json()) as { session: { csrfToken: string } };
    const res = await fetch(`${daemon.url}/v1/events?topics=sandbox`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: ready');
    const out = await fetch(`${daemon.url}/v1/sessions/current`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': session.csrfToken } });
    expect(out.status).toBe(204);
    // The daemon cuts it at its next check (the socket closes under the reader); a stream that went on
    // would hold this loop until the test's timeout.
    const ending = async () => {
      try {
        while (!(await reader.read()).done) {}
      } catch (err) {
        return (err as Error).message;
      }
      return 'ended';
    };
    expect(await ending()).toMatch(/^(ended|terminated)$/);
    expect((await call('GET', '/v1/sandboxes')).status).toBe(200);
  });

  it('pushes a sandbox again when a person takes it over and hands it back, with who drives it', async () => {
    const stream = await listen(admin, ['sandbox']);
    const sbx = await Sandbox.create({ ...admin });
    try {
      const drivenBy = (e: LiveEventMessage, mode: string) =>
        e.event === 'sandbox' && (e.data as Json).sandbox.id === sbx.id && (e.data as Json).sandbox.control.mode === mode;
      const taken = await sbx.takeover();
      const human = await stream.until((e) => drivenBy(e, 'human'));
      expect((human.data as Json).sandbox.control).toMatchObject({ mode: 'human', pid: taken.pid });
      const seen = stream.events.length;
      await sbx.handback();
      await vi.waitFor(() => expect(stream.events.slice(seen).some((e) => drivenBy(e, 'agent'))).toBe(true));
    } finally {
      await sbx.kill();
      await stream.stop();
    }
  });

  it('Y4: a client that stops reading is dropped; the daemon and other streams go on', async () => {
    const reader = await listen(admin, ['audit']);
    // A raw connection that asks for the stream, then never reads.
    const slow = connect(Number(new URL(daemon.url).port), '127.0.0.1');
    slow.pause();
    await new Promise((resolve) => slow.once('connect', resolve));
    slow.write(`GET /v1/events?topics=audit HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${daemon.token}\r\n\r\n`);
    // Each refused exec's audit record carries its command: ~0.5 MB each, 15 MB in all, far past
    // what socket buffers and the 1 MiB queue hold.
    const big = Array.from({ length: 4 }, () => 'x'.repeat(120_000));
    // The reading client gets every record before the next call (it holds at most one in its
    // queue, so only the slow client can fall behind, even on a busy machine); nobody waits for
    // the slow one.
    for (let i = 0; i < 30; i++) {
      const refused = await call('POST', '/v1/sandboxes/sb-000000000000/exec', { cmd: ['true', ...big, String(i)] });
      expect(refused.status).toBe(404);
      await reader.until((e) => e.event === 'audit' && e.data.record.action === 'sandbox.exec' && JSON.stringify(e.data.record.details).includes(`"${i}"`));
    }
    // The slow one, once it reads, finds its stream cut short.
    let received = 0;
    slow.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    slow.resume();
    await new Promise((resolve) => slow.once('close', resolve));
    expect(received).toBeLessThan(30 * 480_000);
    await reader.stop();
  });
});
