import { Audit } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';

// GET /v1/audit answers a question about a long log on the server: by action,
// decision, outcome, principal, sandbox, time and text, a page at a time,
// newest first if asked. The dashboard's audit view is a client of this.
let daemon: FastDaemon;
let agent: { id: string; token: string };
let sandboxId: string;
let otherSandboxId: string;

interface Entry {
  seq: number;
  ts: string;
  principal: string;
  action: string;
  resource: string;
  decision: string;
  outcome: string;
  details: Record<string, unknown>;
}

async function audit(query: string): Promise<Entry[]> {
  const res = await daemon.api(`/v1/audit?${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { records: Entry[] }).records;
}

async function post(path: string, body: unknown, token = daemon.token): Promise<Response> {
  return fetch(daemon.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  daemon = await startFastDaemon();
  agent = (await (await post('/v1/tokens', { role: 'agent' })).json()) as { id: string; token: string };
  sandboxId = ((await (await post('/v1/sandboxes', { template: 'base' }, agent.token)).json()) as { id: string }).id;
  otherSandboxId = ((await (await post('/v1/sandboxes', { template: 'base' })).json()) as { id: string }).id;
  expect((await post(`/v1/sandboxes/${sandboxId}/exec`, { cmd: ['echo', 'needle-50%_done'] }, agent.token)).status).toBe(200);
  // An agent may not mint tokens: a denied record of the agent.
  expect((await post('/v1/tokens', { role: 'admin' }, agent.token)).status).toBe(403);
  // No token at all: a failed authentication of "anonymous".
  expect((await fetch(`${daemon.url}/v1/sandboxes`)).status).toBe(401);
});

afterAll(async () => {
  await daemon?.stop();
});

describe('GET /v1/audit filters on the server', () => {
  it('by action, exactly or by a prefix ending in *', async () => {
    const execs = await audit('action=sandbox.exec');
    expect(execs.length).toBeGreaterThan(0);
    expect(execs.every((r) => r.action === 'sandbox.exec')).toBe(true);
    const sandboxActions = await audit('action=sandbox.*&limit=10000');
    expect(new Set(sandboxActions.map((r) => r.action))).toEqual(new Set(['sandbox.create', 'sandbox.exec']));
    // The prefix is a prefix, not a pattern: _ and % in it match themselves.
    expect(await audit('action=sandbox_*')).toEqual([]);
  });

  it('by decision, outcome ("failed": anything but ok) and principal', async () => {
    const denied = await audit(`decision=deny&principal=${agent.id}`);
    expect(denied.map((r) => r.action)).toEqual(['token.create']);
    const anonymous = await audit('principal=anonymous&outcome=unauthorized');
    expect(anonymous.map((r) => r.resource)).toEqual(['http:/v1/sandboxes']);
    const failed = await audit('outcome=failed&limit=10000');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((r) => r.outcome !== 'ok')).toBe(true);
    const ok = await audit(`outcome=ok&principal=${agent.id}`);
    expect(ok.map((r) => r.action)).toEqual(['sandbox.create', 'sandbox.exec']);
  });

  it('by sandbox: the records about it, not another', async () => {
    expect((await post(`/v1/sandboxes/${otherSandboxId}/exec`, { cmd: ['true'] })).status).toBe(200);
    const records = await audit(`sandbox=${sandboxId}`);
    expect(records.map((r) => r.action)).toEqual(['sandbox.exec']);
    expect(records.every((r) => r.resource === `sandbox:${sandboxId}`)).toBe(true);
    expect((await audit(`sandbox=${otherSandboxId}`)).map((r) => r.resource)).toEqual([`sandbox:${otherSandboxId}`]);
  });

  it('by text anywhere in the record, any case, its LIKE wildcards taken literally', async () => {
    const found = await audit(`q=${encodeURIComponent('NEEDLE-50%_DONE')}`);
    expect(found.map((r) => r.action)).toEqual(['sandbox.exec']);
    expect(JSON.stringify(found[0]?.details)).toContain('needle-50%_done');
    expect(await audit(`q=${encodeURIComponent('needle-50x')}`)).toEqual([]);
    expect(await audit(`q=${encodeURIComponent('needle%done')}`)).toEqual([]);
  });

  it('by time range (since, until) and combined filters', async () => {
    const all = await audit('limit=10000');
    const middle = all[Math.floor(all.length / 2)] as Entry;
    const late = await audit(`since=${encodeURIComponent(middle.ts)}&limit=10000`);
    expect(late.every((r) => r.ts >= middle.ts)).toBe(true);
    const early = await audit(`until=${encodeURIComponent(middle.ts)}&limit=10000`);
    expect(early.every((r) => r.ts < middle.ts)).toBe(true);
    expect(early.length + late.length).toBeLessThanOrEqual(all.length + 1);
    expect(await audit(`until=${encodeURIComponent(all[0]?.ts ?? '')}`)).toEqual([]);
    expect(await audit(`action=sandbox.exec&decision=deny`)).toEqual([]);
    const bad = await daemon.api('/v1/audit?until=yesterday-ish');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('until');
  });

  it('pages newest first: order=desc with before=<the last seq of a page>', async () => {
    const everything = (await audit('limit=10000')).map((r) => r.seq);
    const pages: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await audit(`order=desc&limit=3${before ? `&before=${before}` : ''}`);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(3);
      pages.push(...page.map((r) => r.seq));
      before = page.at(-1)?.seq;
      if (pages.length > everything.length + 50) break;
    }
    // Newest first, each record once; reading the log appends records, so the pages may hold a few more than the first read.
    expect(pages).toEqual([...pages].sort((a, b) => b - a));
    expect(new Set(pages).size).toBe(pages.length);
    expect(pages.slice(-everything.length)).toEqual([...everything].reverse());
  });

  it('the SDK passes the filters: Audit.list({ sandbox, action, text, order })', async () => {
    const records = await Audit.list({ ...daemon.conn, sandbox: sandboxId, action: 'sandbox.*', text: 'NEEDLE', order: 'desc' });
    expect(records.map((r) => [r.action, r.resource])).toEqual([['sandbox.exec', `sandbox:${sandboxId}`]]);
    const newest = await Audit.list({ ...daemon.conn, order: 'desc', limit: 2 });
    const older = await Audit.list({ ...daemon.conn, order: 'desc', limit: 2, before: newest.at(-1)?.seq });
    expect(older.every((r) => r.seq < (newest.at(-1)?.seq ?? 0))).toBe(true);
  });

  it('refuses follow=true with order=desc: a stream goes oldest first', async () => {
    const res = await daemon.api('/v1/audit?follow=true&order=desc');
    expect(res.status).toBe(400);
  });
});
