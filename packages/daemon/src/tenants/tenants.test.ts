import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies read loosely in assertions
type Json = Record<string, any>;

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

const call = async (method: string, path: string, body?: unknown, token = daemon.token) => {
  const res = await fetch(`${daemon.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
};

async function tenantWithToken(name: string, quotas: Record<string, number>, role = 'agent') {
  expect((await call('POST', '/v1/tenants', { name, ...quotas })).status).toBe(201);
  const { body } = await call('POST', '/v1/tokens', { tenant: name, role, name: `${role} of ${name}` });
  return { url: daemon.url, token: body.token as string };
}

describe('tenants and quotas', () => {
  it('holds a tenant to its sandbox, memory and CPU quotas, with clear errors, and counts usage', async () => {
    const conn = await tenantWithToken('quota', { maxSandboxes: 2, maxMemoryMiB: 768, maxCpus: 1.5 });
    const a = await Sandbox.create({ ...conn, limits: { memoryMiB: 512, cpus: 1 } });
    const memory = await Sandbox.create({ ...conn, limits: { memoryMiB: 512, cpus: 0.25 } }).catch((e: unknown) => e);
    expect(memory).toMatchObject({ status: 429, code: 'quota_exceeded', details: { quota: 'maxMemoryMiB', limit: 768, requested: 1024 } });
    const cpus = await Sandbox.create({ ...conn, limits: { memoryMiB: 128, cpus: 1 } }).catch((e: unknown) => e);
    expect(cpus).toMatchObject({ status: 429, details: { quota: 'maxCpus', limit: 1.5 } });
    const b = await Sandbox.create({ ...conn, limits: { memoryMiB: 128, cpus: 0.25 } });
    const count = await Sandbox.create({ ...conn, limits: { memoryMiB: 64, cpus: 0.1 } }).catch((e: unknown) => e);
    expect(count).toMatchObject({ status: 429, details: { quota: 'maxSandboxes', limit: 2 } });
    expect((count as Error).message).toMatch(/at most 2 live sandboxes/);
    const info = await call('GET', '/v1/tenants/quota', undefined, conn.token).catch(() => null);
    expect(info?.status).toBe(403); // an agent does not read tenants
    expect((await call('GET', '/v1/tenants/quota')).body.usage).toEqual({ sandboxes: 2, memoryMiB: 640, cpus: 1.25 });
    // Killing frees the room; raising the quota makes more.
    await a.kill();
    const c = await Sandbox.create({ ...conn, limits: { memoryMiB: 256, cpus: 0.5 } });
    expect((await call('PATCH', '/v1/tenants/quota', { maxSandboxes: null })).body.maxSandboxes).toBeNull();
    await Promise.all([b.kill(), c.kill()]);
  });

  it('lets concurrent creates past a quota only as far as it goes', async () => {
    const conn = await tenantWithToken('race', { maxSandboxes: 3 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => Sandbox.create({ ...conn })));
    const made = results.filter((r): r is PromiseFulfilledResult<Sandbox> => r.status === 'fulfilled').map((r) => r.value);
    expect(made).toHaveLength(3);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'quota_exceeded' });
    await Promise.all(made.map((s) => s.kill()));
  });

  it('gives an operator its own tenant: its tokens, sandboxes and audit, nothing of others', async () => {
    const op = await tenantWithToken('ops', {}, 'operator');
    const agent = await call('POST', '/v1/tokens', { role: 'agent', name: 'made by the operator' }, op.token);
    expect(agent.status).toBe(201);
    expect(agent.body).toMatchObject({ tenant: 'ops', role: 'agent', name: 'made by the operator', revokedAt: null });
    expect(agent.body.token).toMatch(/^pdk_/);
    const listed = await call('GET', '/v1/tokens', undefined, op.token);
    expect(listed.body.tokens.map((t: { tenant: string }) => t.tenant)).toEqual(['ops', 'ops']);
    expect(JSON.stringify(listed.body)).not.toContain(agent.body.token);
    expect((await call('GET', '/v1/tenants', undefined, op.token)).body.tenants.map((t: { name: string }) => t.name)).toEqual(['ops']);
    // Another tenant's token cannot be revoked from here: it does not exist for this tenant.
    const foreign = await call('POST', '/v1/tokens', { tenant: 'default', role: 'agent' });
    expect((await call('DELETE', `/v1/tokens/${foreign.body.id}`, undefined, op.token)).status).toBe(404);
    expect((await call('GET', '/v1/whoami', undefined, agent.body.token)).body).toEqual({
      principal: agent.body.id,
      tenant: 'ops',
      role: 'agent',
      owner: `agent:${agent.body.id}`,
      ownerKind: 'agent',
    });
  });

  it('refuses to remove a tenant with live sandboxes; removing one revokes its tokens', async () => {
    const conn = await tenantWithToken('gone', {});
    const sbx = await Sandbox.create({ ...conn });
    expect(await call('DELETE', '/v1/tenants/gone')).toMatchObject({ status: 409, body: { error: { code: 'tenant_in_use' } } });
    await sbx.kill();
    expect(await call('DELETE', '/v1/tenants/gone')).toMatchObject({ status: 200, body: { deleted: 'gone' } });
    expect((await call('GET', '/v1/whoami', undefined, conn.token)).status).toBe(401);
    expect(await call('DELETE', '/v1/tenants/default')).toMatchObject({ status: 409 });
    expect((await call('POST', '/v1/tenants', { name: 'Bad Name' })).status).toBe(400);
    expect((await call('POST', '/v1/tenants', { name: 'ops' })).status).toBe(409);
  });
});

describe('the audit log', () => {
  it('records who did what, for how long, chained by hashes; since and follow work', async () => {
    const conn = await tenantWithToken('watched', {});
    const controller = new AbortController();
    const seen: Array<Json> = [];
    const follow = fetch(`${daemon.url}/v1/audit?follow=true&since=1m`, {
      headers: { authorization: `Bearer ${daemon.token}` },
      signal: controller.signal,
    }).then(async (res) => {
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let buffered = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += new TextDecoder().decode(value);
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line) seen.push(JSON.parse(line));
      }
    });
    const sbx = await Sandbox.create({ ...conn, metadata: { task: 'audited' } });
    await sbx.commands.run(['echo', 'hi']);
    await sbx.kill();
    await expect
      .poll(() => seen.filter((r) => r.tenant === 'watched').map((r) => r.action), { timeout: 5000 })
      .toEqual(expect.arrayContaining(['sandbox.create', 'sandbox.exec', 'sandbox.kill']));
    controller.abort();
    await follow.catch(() => {});
    const exec = seen.find((r) => r.tenant === 'watched' && r.action === 'sandbox.exec');
    expect(exec).toMatchObject({ decision: 'allow', outcome: 'ok', resource: `sandbox:${sbx.id}` });
    expect(exec?.principal).toMatch(/^tok_/);
    expect(typeof exec?.durationMs).toBe('number');
    // Consecutive records are linked.
    for (let i = 1; i < seen.length; i++) if (seen[i]?.seq === (seen[i - 1]?.seq as number) + 1) expect(seen[i]?.prevHash).toBe(seen[i - 1]?.hash);
    expect((await call('GET', '/v1/audit?since=soon')).status).toBe(400);
    const recent = await call('GET', '/v1/audit?since=1h&limit=5');
    expect(recent.body.records).toHaveLength(5);
  });
});
