import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, Tokens } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies read loosely in assertions
type Json = Record<string, any>;

let daemon: FastDaemon;
/** Two sandboxes of the default tenant: the one scopes name, and one they do not. */
let inScope: Sandbox;
let outOfScope: Sandbox;
/** A sandbox of another tenant, for comparing what "not yours" looks like. */
let foreign: Sandbox;

beforeAll(async () => {
  daemon = await startFastDaemon();
  const admin = { url: daemon.url, token: daemon.token };
  [inScope, outOfScope] = await Promise.all([
    Sandbox.create({ ...admin, metadata: { task: 'q1' } }),
    Sandbox.create({ ...admin, metadata: { task: 'other' } }),
  ]);
  await call('POST', '/v1/tenants', { name: 'elsewhere' });
  const { token } = await Tokens.create({ tenant: 'elsewhere', role: 'agent' }, admin);
  foreign = await Sandbox.create({ url: daemon.url, token });
});

afterAll(async () => {
  await daemon?.stop();
});

async function call(method: string, path: string, body?: unknown, token = daemon.token): Promise<{ status: number; body: Json }> {
  const raw = body instanceof Uint8Array || typeof body === 'string';
  const res = await fetch(`${daemon.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': raw ? 'application/octet-stream' : 'application/json' }),
    },
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? (JSON.parse(text) as Json) : { text } };
}

/** A token made by the admin (an operator's would do) with this scope; agent unless said. */
async function scoped(scope: Json, extra: Json = {}): Promise<{ id: string; token: string; body: Json }> {
  const made = await call('POST', '/v1/tokens', { role: 'agent', scope, ...extra });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return { id: made.body.id, token: made.body.token, body: made.body };
}

/**
 * Every governed action a scope can name, each with a request that makes it.
 * `sandbox` marks those about one sandbox: they take the sandbox's id.
 */
const actions: Array<{ action: string; sandbox: boolean; request: (id: string) => [string, string, unknown?] }> = [
  { action: 'sandbox.get', sandbox: true, request: (id) => ['GET', `/v1/sandboxes/${id}`] },
  { action: 'sandbox.exec', sandbox: true, request: (id) => ['POST', `/v1/sandboxes/${id}/exec`, { cmd: ['true'] }] },
  { action: 'sandbox.process.list', sandbox: true, request: (id) => ['GET', `/v1/sandboxes/${id}/processes`] },
  { action: 'sandbox.file.read', sandbox: true, request: (id) => ['GET', `/v1/sandboxes/${id}/files/list?path=/`] },
  { action: 'sandbox.file.write', sandbox: true, request: (id) => ['PUT', `/v1/sandboxes/${id}/files?path=/tmp/q1.txt`, 'q1'] },
  { action: 'sandbox.timeout', sandbox: true, request: (id) => ['POST', `/v1/sandboxes/${id}/timeout`, { timeoutMs: 600_000 }] },
  { action: 'sandbox.network.get', sandbox: true, request: (id) => ['GET', `/v1/sandboxes/${id}/network`] },
  { action: 'sandbox.list', sandbox: false, request: () => ['GET', '/v1/sandboxes'] },
  { action: 'template.list', sandbox: false, request: () => ['GET', '/v1/templates'] },
  { action: 'volume.list', sandbox: false, request: () => ['GET', '/v1/volumes'] },
  { action: 'secret.list', sandbox: false, request: () => ['GET', '/v1/secrets'] },
  { action: 'gateway.server.list', sandbox: false, request: () => ['GET', '/v1/gateway/servers'] },
];

describe('capability tokens: scope enforcement', () => {
  it.each(actions)('Q1: $action runs inside a token’s actions and is refused (scope_denied, 403) outside them', async ({ action, request }) => {
    const allowed = await scoped({ actions: [action] });
    const [method, path, body] = request(inScope.id);
    const ok = await call(method, path, body, allowed.token);
    expect(ok.status, JSON.stringify(ok.body)).toBeLessThan(300);
    const other = await scoped({ actions: [action === 'sandbox.get' ? 'sandbox.list' : 'sandbox.get'] });
    const refused = await call(method, path, body, other.token);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'scope_denied', details: { field: 'actions', action } });
    expect(refused.body.error.message).toContain(`does not allow ${action}`);
  });

  it.each(actions.filter((a) => a.sandbox))(
    'Q2: $action on a sandbox outside a token’s sandboxes is not found, exactly as another tenant’s sandbox',
    async ({ action, request }) => {
      const token = (await scoped({ sandboxes: [inScope.id], actions: [action] })).token;
      const [method, path, body] = request(outOfScope.id);
      const hidden = await call(method, path, body, token);
      const [fm, fp, fb] = request(foreign.id);
      const other = await call(fm, fp, fb, token);
      expect(hidden.status).toBe(404);
      expect(hidden.body.error.code).toBe('sandbox_not_found');
      expect({ ...hidden.body.error, message: '', details: {} }).toEqual({ ...other.body.error, message: '', details: {} });
      expect(hidden.body.error.message).toBe(other.body.error.message.replace(foreign.id, outOfScope.id));
    },
  );

  it('Q2: a label selector reaches only sandboxes with those labels, for every sandbox action', async () => {
    const token = (await scoped({ labels: { task: 'q1' }, actions: actions.filter((a) => a.sandbox).map((a) => a.action) })).token;
    for (const { action, request } of actions.filter((a) => a.sandbox)) {
      const [method, path, body] = request(inScope.id);
      expect((await call(method, path, body, token)).status, action).toBeLessThan(300);
      const [m2, p2, b2] = request(outOfScope.id);
      expect((await call(m2, p2, b2, token)).body.error?.code, action).toBe('sandbox_not_found');
    }
  });

  it('Q2: a sandbox-scoped token lists, and kills with kill --all, only its own sandboxes', async () => {
    const admin = { url: daemon.url, token: daemon.token };
    const [mine, theirs] = await Promise.all([Sandbox.create({ ...admin }), Sandbox.create({ ...admin })]);
    const token = (await scoped({ sandboxes: [mine.id], actions: ['sandbox.list', 'sandbox.kill'] })).token;
    expect((await Sandbox.list({ url: daemon.url, token })).map((s) => s.id)).toEqual([mine.id]);
    expect(await Sandbox.killAll({ url: daemon.url, token })).toEqual([mine.id]);
    expect(await theirs.isRunning()).toBe(true);
    await theirs.kill();
    const labelled = (await scoped({ labels: { task: 'q1' }, actions: ['sandbox.list'] })).token;
    expect((await Sandbox.list({ url: daemon.url, token: labelled })).map((s) => s.id)).toEqual([inScope.id]);
  });

  it('Q3: a token creates (or forks) sandboxes only of its templates, tiers and labels (scope_denied naming the field)', async () => {
    const token = (await scoped({ actions: ['sandbox.create', 'sandbox.kill'], templates: ['base'], tiers: ['gvisor'], labels: { task: 'q3' } })).token;
    const create = (body: Json) => call('POST', '/v1/sandboxes', { template: 'base', tier: 'gvisor', metadata: { task: 'q3' }, ...body }, token);
    expect((await create({ template: 'python' })).body.error).toMatchObject({ code: 'scope_denied', details: { field: 'templates' } });
    expect((await create({ tier: 'container' })).body.error).toMatchObject({ code: 'scope_denied', details: { field: 'tiers' } });
    expect((await create({ metadata: { task: 'other' } })).body.error).toMatchObject({ code: 'scope_denied', details: { field: 'labels' } });
    // A fork is a new sandbox of its parent's template, tier and labels: held to the same fields.
    const forker = (await scoped({ actions: ['sandbox.fork'], tiers: ['gvisor'] })).token;
    const fork = await call('POST', `/v1/sandboxes/${inScope.id}/fork`, {}, forker);
    expect(fork.status).toBe(403);
    expect(fork.body.error).toMatchObject({ code: 'scope_denied', details: { field: 'tiers', tier: 'container' } });
    const made = await create({});
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ template: 'base', tier: 'gvisor' });
    expect((await call('DELETE', `/v1/sandboxes/${made.body.id}`, undefined, token)).status).toBe(200);
  });

  it('Q4: max sandboxes holds under concurrent creates: exactly that many are made, the rest token_exhausted', async () => {
    const made = await scoped({ actions: ['sandbox.create'], maxSandboxes: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, () => call('POST', '/v1/sandboxes', { metadata: { race: 'q4' } }, made.token)));
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(3);
    for (const r of results.filter((r) => r.status !== 201)) {
      expect(r.status).toBe(403);
      expect(r.body.error).toMatchObject({ code: 'token_exhausted', details: { field: 'maxSandboxes', limit: 3 } });
    }
    expect((await Tokens.list({ url: daemon.url, token: daemon.token })).find((t) => t.id === made.id)?.sandboxesCreated).toBe(3);
    await Promise.all(created.map((r) => call('DELETE', `/v1/sandboxes/${r.body.id}`)));
  });

  it('Q5: max uses holds under concurrency: 50 requests at once on a 10-use token, exactly 10 succeed', async () => {
    const made = await scoped({ sandboxes: [inScope.id], actions: ['exec'], maxUses: 10 });
    const results = await Promise.all(Array.from({ length: 50 }, () => call('GET', `/v1/sandboxes/${inScope.id}`, undefined, made.token)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(40);
    for (const r of refused) {
      expect(r.status).toBe(403);
      expect(r.body.error).toMatchObject({ code: 'token_exhausted', details: { field: 'maxUses', limit: 10 } });
    }
    const listed = (await Tokens.list({ url: daemon.url, token: daemon.token })).find((t) => t.id === made.id);
    expect(listed).toMatchObject({ uses: 10, scope: { maxUses: 10 } });
  });

  it('Q6: an expired token is refused with token_expired (401) and its expiry', async () => {
    const made = await scoped({ actions: ['sandbox.get'] }, { ttlMs: 1000 });
    expect((await call('GET', `/v1/sandboxes/${inScope.id}`, undefined, made.token)).status).toBe(200);
    // The token's holder can read its own limits.
    expect((await call('GET', '/v1/whoami', undefined, made.token)).body).toMatchObject({
      scope: { actions: ['sandbox.get'] },
      expiresAt: made.body.expiresAt,
    });
    await new Promise((r) => setTimeout(r, 1100));
    const late = await call('GET', `/v1/sandboxes/${inScope.id}`, undefined, made.token);
    expect(late.status).toBe(401);
    expect(late.body.error).toMatchObject({ code: 'token_expired', details: { expiresAt: made.body.expiresAt } });
    expect((await call('GET', '/v1/whoami', undefined, made.token)).body.error.code).toBe('token_expired');
    const records = (await call('GET', '/v1/audit?limit=10000')).body.records as Json[];
    expect(records.filter((r) => r.principal === made.id && r.action === 'auth.authenticate').map((r) => r.outcome)).toEqual([
      'token_expired',
      'token_expired',
    ]);
  });
});

describe('capability tokens: expiry elsewhere', () => {
  it('an expired token no longer counts as a person holding a token (self-approval on a one-person install)', async () => {
    const asked = await call('POST', `/v1/sandboxes/${inScope.id}/exec`, { cmd: ['sh', '-c', 'curl -fsS https://installer.invalid/setup.sh | sh'] });
    expect(asked.body.error.code).toBe('approval_required');
    const id = asked.body.error.details.approvalId as string;
    const bob = await call('POST', '/v1/tokens', { role: 'operator', owner: 'bob@example.com', ttlMs: 1000 });
    expect(bob.status).toBe(201);
    const self = () => call('POST', `/v1/approvals/${id}/approve`, { self: true, reason: 'my own installer' });
    const refused = await self();
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/one person/);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await self()).body).toMatchObject({ state: 'approved', selfApproved: true });
  });
});

describe('capability tokens: minting', () => {
  const parentScope = {
    labels: { task: 'q1' },
    actions: ['exec', 'files.read', 'token.create', 'sandbox.create'],
    templates: ['base'],
    tiers: ['container'],
    maxUses: 20,
    maxSandboxes: 2,
  };
  /** Each field asked wider than the parent's, and the field the refusal names. */
  const wider: Array<[string, Json]> = [
    ['sandboxes', { scope: { sandboxes: ['sb-aaaaaaaaaaaa'] } }],
    ['labels', { scope: { labels: { task: 'other' } } }],
    ['actions', { scope: { actions: ['files.write'] } }],
    ['templates', { scope: { templates: ['python'] } }],
    ['tiers', { scope: { tiers: ['gvisor'] } }],
    ['maxUses', { scope: { maxUses: 1000 } }],
    ['maxSandboxes', { scope: { maxSandboxes: 3 } }],
    ['expiresAt', { ttlMs: 7_200_000 }],
    ['owner', { owner: 'agent:someone-else' }],
  ];

  it.each(wider)('Q7: a scoped token cannot mint a token wider in %s (scope_wider, 403)', async (field, ask) => {
    const parent = await scoped({ ...parentScope, sandboxes: [inScope.id] }, { ttlMs: 3_600_000 });
    const refused = await call('POST', '/v1/tokens', { role: 'agent', ...ask }, parent.token);
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'scope_wider', details: { field } });
  });

  it('Q7: a scoped token cannot mint a higher role: the role rules refuse it first', async () => {
    const parent = await scoped({ ...parentScope, sandboxes: [inScope.id] }, { ttlMs: 3_600_000 });
    const operator = await call('POST', '/v1/tokens', { role: 'operator' }, parent.token);
    expect(operator.status).toBe(403);
    expect(operator.body.error).toMatchObject({ code: 'policy_denied', message: 'token.create needs the operator role; this token is agent' });
    const scopedOperator = await call('POST', '/v1/tokens', { role: 'operator', scope: { actions: ['token.create'] } });
    const admin = await call('POST', '/v1/tokens', { role: 'admin', scope: { actions: ['token.create'] } }, scopedOperator.body.token);
    expect(admin.body.error).toMatchObject({ code: 'policy_denied', message: 'only an admin creates admin tokens' });
  });

  it('Q7: a narrower copy keeps what it leaves out from its maker, and dies with it', async () => {
    const parent = await scoped({ ...parentScope, sandboxes: [inScope.id] }, { ttlMs: 3_600_000 });
    const child = await call('POST', '/v1/tokens', { role: 'agent', scope: { actions: ['exec'], maxUses: 5 } }, parent.token);
    expect(child.status, JSON.stringify(child.body)).toBe(201);
    expect(child.body).toMatchObject({
      parent: parent.id,
      owner: parent.body.owner,
      expiresAt: parent.body.expiresAt,
      scope: { sandboxes: [inScope.id], labels: { task: 'q1' }, templates: ['base'], tiers: ['container'], maxUses: 5, maxSandboxes: 2 },
    });
    expect(child.body.scope.actions).toEqual(expect.arrayContaining(['sandbox.exec', 'sandbox.get']));
    expect(child.body.scope.actions).not.toContain('sandbox.file.read');
    expect((await call('POST', `/v1/sandboxes/${inScope.id}/exec`, { cmd: ['true'] }, child.body.token)).status).toBe(200);
    expect((await call('GET', `/v1/sandboxes/${inScope.id}/files/list?path=/`, undefined, child.body.token)).body.error.code).toBe('scope_denied');
    const grandchild = await call('POST', '/v1/tokens', { role: 'agent', scope: { actions: ['sandbox.get'] } }, child.body.token);
    expect(grandchild.status).toBe(403); // the child was not given token.create
    const sibling = await call('POST', '/v1/tokens', { role: 'agent', scope: { actions: ['token.create', 'sandbox.get'] } }, parent.token);
    const nephew = await call('POST', '/v1/tokens', { role: 'agent', scope: { actions: ['sandbox.get'] } }, sibling.body.token);
    expect(nephew.body).toMatchObject({ parent: sibling.body.id, scope: { actions: ['sandbox.get'], maxUses: expect.any(Number) } });
    expect(nephew.body.scope.maxUses).toBeLessThanOrEqual(sibling.body.scope.maxUses);
    expect((await call('GET', `/v1/sandboxes/${inScope.id}`, undefined, nephew.body.token)).status).toBe(200);
    // Revoking the first token revokes every copy made from it, however deep.
    expect((await call('DELETE', `/v1/tokens/${parent.id}`)).status).toBe(200);
    for (const token of [child.body.token, sibling.body.token, nephew.body.token]) {
      expect((await call('GET', `/v1/sandboxes/${inScope.id}`, undefined, token)).status).toBe(401);
    }
  });

  it('Q8: an agent hands a sandbox-bound token to a subagent; it reaches that sandbox only, and an agent still mints no unscoped token', async () => {
    const admin = { url: daemon.url, token: daemon.token };
    const agent = await Tokens.create({ role: 'agent', name: 'lead agent' }, admin);
    const sbx = await Sandbox.connect(inScope.id, { url: daemon.url, token: agent.token });
    const sub = await sbx.createScopedToken({ actions: ['exec', 'files.read'], ttlMs: 15 * 60_000, name: 'subagent' });
    expect(sub).toMatchObject({ role: 'agent', owner: agent.owner, parent: agent.id, scope: { sandboxes: [inScope.id] } });
    const mine = await Sandbox.connect(inScope.id, { url: daemon.url, token: sub.token });
    expect((await mine.commands.run('echo hi')).stdout).toBe('hi\n');
    await expect(mine.files.write('/tmp/x', 'y')).rejects.toMatchObject({ status: 403, code: 'scope_denied' });
    await expect(Sandbox.connect(outOfScope.id, { url: daemon.url, token: sub.token })).rejects.toMatchObject({ status: 404, code: 'sandbox_not_found' });
    const unscoped = await call('POST', '/v1/tokens', { role: 'agent' }, agent.token);
    expect(unscoped.status).toBe(403);
    expect(unscoped.body.error.code).toBe('policy_denied');
  });

  it('refuses an unknown action name with a field error', async () => {
    const r = await call('POST', '/v1/tokens', { role: 'agent', scope: { actions: ['exec', 'sandbox.teleport'] } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'invalid_request', details: { fields: [{ path: 'scope.actions' }] } });
  });
});

describe('capability tokens: policies and audit', () => {
  it('Q9: policies see the scope as principal attributes and narrow it further; audit records carry the token id and scope digest', async () => {
    const small = await scoped({ sandboxes: [inScope.id], actions: ['sandbox.get', 'sandbox.timeout'], tiers: ['container'], maxUses: 50 });
    const plain = await Tokens.create({ role: 'agent' }, { url: daemon.url, token: daemon.token });
    const file = join(daemon.stateDir, 'policies', '50-scoped.cedar');
    writeFileSync(
      file,
      [
        '@reason("tokens cut down to a few uses do not move timeouts")',
        'forbid (principal, action == Paddock::Action::"sandbox.timeout", resource)',
        'when { principal.scoped && principal has maxUses && principal.maxUses < 100 && principal has scopeTiers && principal.scopeTiers.contains("container")',
        `  && principal has scopeSandboxes && principal.scopeSandboxes.contains("${inScope.id}") };`,
        '',
      ].join('\n'),
    );
    try {
      daemon.running().services.policy.reload();
      expect(daemon.running().services.policy.status().problems).toEqual([]);
      const timeout = (token: string) => call('POST', `/v1/sandboxes/${inScope.id}/timeout`, { timeoutMs: 600_000 }, token);
      const refused = await timeout(small.token);
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'policy_denied', message: 'tokens cut down to a few uses do not move timeouts' });
      expect((await timeout(plain.token)).status).toBe(200);
    } finally {
      rmSync(file);
      daemon.running().services.policy.reload();
    }
    expect((await call('GET', `/v1/sandboxes/${inScope.id}`, undefined, small.token)).status).toBe(200);
    const records = (await call('GET', '/v1/audit?limit=10000')).body.records as Json[];
    const mine = records.filter((r) => r.principal === small.id);
    expect(mine.map((r) => r.outcome)).toEqual(['policy_denied', 'ok']);
    for (const r of mine) expect(r.details.scopeDigest).toBe(small.body.scopeDigest);
    expect(small.body.scopeDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(records.filter((r) => r.principal === plain.id).every((r) => r.details.scopeDigest === undefined)).toBe(true);
  });
});
