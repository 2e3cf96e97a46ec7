import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthenticationError, Sandbox, SandboxError, SandboxNotFoundError, Template } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../../testing/fast-daemon.js';

// E2B's control plane with the official `e2b` client against an in-process
// daemon (fake sandboxes: nothing here runs inside one). The SDK is pointed at
// the daemon through its options, never through E2B_* variables.
let daemon: FastDaemon;
let apiKey: string;
let tokenId: string;

const e2b = (key = apiKey) => ({ apiKey: key, apiUrl: `${daemon.url}/e2b`, sandboxUrl: daemon.url, domain: 'sandbox.localhost', debug: false });

/** A raw call under /e2b, as the Python SDK makes them (X-API-Key). */
const raw = async (method: string, path: string, body?: unknown, key = apiKey) => {
  const res = await fetch(`${daemon.url}/e2b${path}`, {
    method,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
};

const native = async (method: string, path: string, body?: unknown, token = daemon.token) => {
  const res = await daemon.api(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};

beforeAll(async () => {
  daemon = await startFastDaemon();
  const created = await native('POST', '/v1/tokens', { role: 'operator', name: 'e2b client', e2b: true });
  expect(created.status).toBe(201);
  apiKey = created.body.token;
  tokenId = created.body.id;
  // Requests the tests want refused (deny) or held for a person (ask), told apart by a label.
  writeFileSync(
    join(daemon.stateDir, 'policies', '20-e2b-test.cedar'),
    [
      '@id("e2b-test-deny")',
      '@reason("sandboxes labelled deny=yes are not made here")',
      'forbid (principal, action == Paddock::Action::"sandbox.create", resource) when { context has labels && context.labels.contains("deny=yes") };',
      '@id("e2b-test-ask")',
      '@ask("sandboxes labelled ask=yes need a human")',
      'forbid (principal, action == Paddock::Action::"sandbox.create", resource) when { context has labels && context.labels.contains("ask=yes") };',
      '',
    ].join('\n'),
  );
  // The daemon reloads its policies when a file changes.
  for (let tries = 0; !JSON.stringify((await native('GET', '/v1/policies')).body).includes('e2b-test-ask'); tries++) {
    if (tries > 50) throw new Error('the test policies were not loaded');
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await daemon?.stop();
});

describe('E2B API keys', () => {
  it('token create --e2b gives a secret of E2B key shape, which the Python SDK accepts, authenticating as the Paddock token it is', async () => {
    // The Python SDK's check before it sends anything: "e2b_" and hex digits.
    expect(apiKey).toMatch(/^e2b_[0-9a-f]{40}$/);
    const who = await native('GET', '/v1/whoami', undefined, apiKey);
    expect(who.body).toMatchObject({ principal: tokenId, role: 'operator', tenant: 'default' });
  });

  it('N4: a key nobody issued is refused with 401 in E2B’s error shape; the SDK raises AuthenticationError; X-API-Key is no credential outside /e2b', async () => {
    const unknown = `e2b_${'0'.repeat(40)}`;
    await expect(Sandbox.create('base', e2b(unknown))).rejects.toBeInstanceOf(AuthenticationError);
    const answer = await raw('GET', '/v2/sandboxes', undefined, unknown);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ code: 401, message: expect.any(String) });
    expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.ts:\d+/);
    // A real key, but as X-API-Key on Paddock's own routes: no credential there.
    const outside = await fetch(`${daemon.url}/v1/sandboxes`, { headers: { 'x-api-key': apiKey } });
    expect(outside.status).toBe(401);
    expect(((await outside.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('N4: a revoked key stops working at once', async () => {
    const made = await native('POST', '/v1/tokens', { role: 'agent', e2b: true });
    expect((await raw('GET', '/v2/sandboxes', undefined, made.body.token)).status).toBe(200);
    await native('DELETE', `/v1/tokens/${made.body.id}`);
    expect((await raw('GET', '/v2/sandboxes', undefined, made.body.token)).status).toBe(401);
  });

  it('also takes the Paddock token as Authorization: Bearer', async () => {
    const res = await fetch(`${daemon.url}/e2b/v2/sandboxes`, { headers: { authorization: `Bearer ${daemon.token}` } });
    expect(res.status).toBe(200);
  });
});

describe('sandbox lifecycle through the e2b SDK', () => {
  it('creates, gets, connects, sets the timeout and kills; a killed sandbox is not found', async () => {
    const sbx = await Sandbox.create('base', { ...e2b(), metadata: { suite: 'lifecycle' }, timeoutMs: 600_000 });
    expect(sbx.sandboxId).toMatch(/^sb-[a-z0-9]{12}$/);
    const info = await sbx.getInfo();
    expect(info).toMatchObject({ sandboxId: sbx.sandboxId, templateId: 'base', name: 'base', metadata: { suite: 'lifecycle' }, state: 'running' });
    expect(info.endAt.getTime() - info.startedAt.getTime()).toBe(600_000);

    // A connect only ever extends the lifetime (by default to 5 minutes from now).
    const same = await Sandbox.connect(sbx.sandboxId, e2b());
    expect(same.sandboxId).toBe(sbx.sandboxId);
    expect((await sbx.getInfo()).endAt.getTime()).toBe(info.endAt.getTime());
    await Sandbox.connect(sbx.sandboxId, { ...e2b(), timeoutMs: 900_000 });
    expect((await sbx.getInfo()).endAt.getTime() - Date.now()).toBeGreaterThan(890_000);

    // setTimeout sets it, shorter too.
    await sbx.setTimeout(60_000);
    expect((await sbx.getInfo()).endAt.getTime() - Date.now()).toBeLessThanOrEqual(60_000);

    expect(await sbx.kill()).toBe(true);
    expect(await sbx.kill()).toBe(false);
    await expect(Sandbox.getInfo(sbx.sandboxId, e2b())).rejects.toBeInstanceOf(SandboxNotFoundError);
    await expect(Sandbox.connect(sbx.sandboxId, e2b())).rejects.toBeInstanceOf(SandboxNotFoundError);
  });

  it('maps the SDKs’ default template names to Paddock templates and says which options it cannot honour', async () => {
    const missing = await Sandbox.create('no-such-template', e2b()).catch((e: Error) => e);
    expect(missing).toBeInstanceOf(SandboxError);
    expect((missing as SandboxError).message).toMatch(/404: template no-such-template not found/);
    const refused = await Sandbox.create('base', { ...e2b(), lifecycle: { onTimeout: { action: 'pause', keepMemory: false } } }).catch((e: Error) => e);
    expect((refused as Error).message).toMatch(/^400: autoPauseMemory is not supported by Paddock/);
    const ranges = await Sandbox.create('base', { ...e2b(), network: { allowOut: ['10.0.0.0/8'] } }).catch((e: Error) => e);
    expect((ranges as Error).message).toMatch(/^400: network\.allowOut: 10\.0\.0\.0\/8 is an address range/);
    expect(await Template.exists('base', e2b())).toBe(true);
    expect(await Template.exists('no-such-template', e2b())).toBe(false);
  });

  it('pauses (false when already paused) and connect resumes', async () => {
    const sbx = await Sandbox.create('base', { ...e2b(), metadata: { suite: 'pause' } });
    expect(await sbx.pause()).toBe(true);
    expect(await sbx.pause()).toBe(false);
    expect((await sbx.getInfo()).state).toBe('paused');
    await Sandbox.connect(sbx.sandboxId, e2b());
    expect((await sbx.getInfo()).state).toBe('running');
    await sbx.kill();
  });

  it('a pause asked while the sandbox’s files are copied waits for the copy, then pauses (not false: it was not paused)', async () => {
    const sbx = await Sandbox.create('base', { ...e2b(), metadata: { suite: 'pause-busy' } });
    const copy = daemon.host.holdCopies();
    try {
      const checkpoint = native('POST', `/v1/sandboxes/${sbx.sandboxId}/checkpoints`);
      await expect.poll(() => copy.copying()).toBe(true);
      let paused: boolean | undefined;
      const pausing = sbx.pause().then((answer) => {
        paused = answer;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(paused).toBeUndefined();
      copy.release();
      expect((await checkpoint).status).toBe(201);
      await pausing;
      expect(paused).toBe(true);
      expect((await sbx.getInfo()).state).toBe('paused');
    } finally {
      copy.release();
    }
    await sbx.kill();
  });

  it('lists with metadata and state filters, a page at a time', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await Sandbox.create('base', { ...e2b(), metadata: { suite: 'paging', n: String(i) } }));
    const paginator = Sandbox.list({ ...e2b(), query: { metadata: { suite: 'paging' } }, limit: 2 });
    const first = await paginator.nextItems();
    expect(first).toHaveLength(2);
    expect(paginator.hasNext).toBe(true);
    const second = await paginator.nextItems();
    expect(second).toHaveLength(1);
    expect(paginator.hasNext).toBe(false);
    // Newest first, each once.
    expect([...first, ...second].map((s) => s.sandboxId)).toEqual(made.map((s) => s.sandboxId).reverse());

    await made[1]?.pause();
    const paused = await Sandbox.list({ ...e2b(), query: { metadata: { suite: 'paging' }, state: ['paused'] } }).nextItems();
    expect(paused.map((s) => s.sandboxId)).toEqual([made[1]?.sandboxId]);
    const one = await Sandbox.list({ ...e2b(), query: { metadata: { suite: 'paging', n: '2' } } }).nextItems();
    expect(one.map((s) => s.sandboxId)).toEqual([made[2]?.sandboxId]);
    for (const s of made) await s.kill();
  });

  it('N5: gives each sandbox an envd access token: a Paddock token for that sandbox alone, that makes no sandbox or token, revoked when it ends', async () => {
    const created = await raw('POST', '/v2/sandboxes', { templateID: 'base', metadata: { suite: 'envd' } });
    expect(created.status).toBe(201);
    const { sandboxID, envdAccessToken } = created.body;
    const who = await native('GET', '/v1/whoami', undefined, envdAccessToken);
    expect(who.body).toMatchObject({ role: 'operator', scope: { sandboxes: [sandboxID] } });
    expect(who.body.scope.actions).toContain('sandbox.exec');
    expect(who.body.scope.actions).not.toContain('sandbox.create');
    // Connecting again gets the same token (no new token per connect); another key gets its own.
    expect((await raw('POST', `/v2/sandboxes/${sandboxID}/connect`, {})).body.envdAccessToken).toBe(envdAccessToken);
    const second = await native('POST', '/v1/tokens', { role: 'operator', e2b: true });
    expect((await raw('POST', `/v2/sandboxes/${sandboxID}/connect`, {}, second.body.token)).body.envdAccessToken).not.toBe(envdAccessToken);
    const other = await raw('POST', '/v2/sandboxes', { templateID: 'base' });
    // Another sandbox does not exist for it.
    expect((await native('GET', `/v1/sandboxes/${other.body.sandboxID}`, undefined, envdAccessToken)).status).toBe(404);
    expect((await native('GET', `/v1/sandboxes/${sandboxID}`, undefined, envdAccessToken)).status).toBe(200);
    expect((await native('POST', '/v1/sandboxes', { template: 'base' }, envdAccessToken)).body.error.code).toBe('scope_denied');
    expect((await native('POST', '/v1/tokens', { role: 'operator' }, envdAccessToken)).body.error.code).toBe('scope_denied');
    expect((await raw('POST', '/v2/sandboxes', { templateID: 'base' }, envdAccessToken)).body).toMatchObject({ code: 403, error_code: 'scope_denied' });
    await raw('DELETE', `/sandboxes/${sandboxID}`);
    await raw('DELETE', `/sandboxes/${other.body.sandboxID}`);
    await expect.poll(async () => (await native('GET', '/v1/whoami', undefined, envdAccessToken)).status, { timeout: 5000 }).toBe(401);
  });
});

describe('what maps onto Paddock besides', () => {
  it('updateNetwork replaces the allowed hosts; getMetrics reads the sandbox’s samples', async () => {
    const sbx = await Sandbox.create('base', { ...e2b(), network: { allowOut: ['pypi.org', 'files.pythonhosted.org'] } });
    expect((await sbx.getInfo()).network).toMatchObject({ allowOut: ['pypi.org', 'files.pythonhosted.org'] });
    await sbx.updateNetwork({ allowOut: ['registry.npmjs.org'] });
    const view = await native('GET', `/v1/sandboxes/${sbx.sandboxId}/network`);
    expect(view.body.allow).toEqual(['registry.npmjs.org']);
    expect(view.body.deny).toEqual(expect.arrayContaining(['pypi.org', 'files.pythonhosted.org']));
    expect(Array.isArray(await sbx.getMetrics())).toBe(true);
    const cutOff = await Sandbox.create('base', { ...e2b(), allowInternetAccess: false });
    expect((await native('GET', `/v1/sandboxes/${cutOff.sandboxId}/network`)).body.mode).toBe('none');
    await sbx.kill();
    await cutOff.kill();
  });

  it('forks and snapshots a sandbox; a snapshot is a template a new sandbox starts from', async () => {
    const sbx = await Sandbox.create('base', e2b());
    const [fork] = await sbx.fork();
    expect(fork).toBeInstanceOf(Sandbox);
    expect((fork as Sandbox).sandboxId).not.toBe(sbx.sandboxId);
    const snapshot = await sbx.createSnapshot({ name: 'e2b-snap' });
    expect(snapshot.snapshotId).toBe('e2b-snap');
    const listed = await Sandbox.listSnapshots(e2b()).nextItems();
    expect(listed).toContainEqual({ snapshotId: 'e2b-snap', names: ['e2b-snap'] });
    expect(await Sandbox.listSnapshots({ ...e2b(), name: 'e2b-snap' }).nextItems()).toEqual([{ snapshotId: 'e2b-snap', names: ['e2b-snap'] }]);
    // A snapshot does not record which sandbox it was taken of: that filter is refused, not ignored.
    await expect(sbx.listSnapshots().nextItems()).rejects.toThrow(/^400: sandboxID is not supported by Paddock/);
    const fromSnapshot = await Sandbox.create(snapshot.snapshotId, e2b());
    expect((await fromSnapshot.getInfo()).templateId).toBe('e2b-snap');
    for (const s of [sbx, fork as Sandbox, fromSnapshot]) await s.kill();
    expect(await Sandbox.deleteSnapshot('e2b-snap', e2b())).toBe(true);
    expect(await Sandbox.deleteSnapshot('e2b-snap', e2b())).toBe(false);
  });
});

describe('governed as the native API', () => {
  it('N7: a policy deny is a 403 whose message is the policy’s reason; the audit log has the same sandbox.create record', async () => {
    const denied = await Sandbox.create('base', { ...e2b(), metadata: { deny: 'yes' } }).catch((e: Error) => e);
    expect(denied).toBeInstanceOf(SandboxError);
    expect((denied as SandboxError).message).toBe('403: sandboxes labelled deny=yes are not made here');
    const records = (await native('GET', '/v1/audit?limit=10000')).body.records as Array<Record<string, unknown>>;
    const record = records.findLast((r) => r.action === 'sandbox.create' && r.decision === 'deny');
    expect(record).toMatchObject({ principal: tokenId, resource: 'template:base', outcome: 'policy_denied', details: { labels: { deny: 'yes' } } });
  });

  it('N7: an ask is an error naming the approval to wait for', async () => {
    const asked = await raw('POST', '/v2/sandboxes', { templateID: 'base', metadata: { ask: 'yes' } });
    expect(asked.status).toBe(403);
    expect(asked.body).toMatchObject({ code: 403, error_code: 'approval_required', approvalId: expect.stringMatching(/^ap_/) });
    expect(asked.body.message).toContain(asked.body.approvalId);
    const viaSdk = await Sandbox.create('base', { ...e2b(), metadata: { ask: 'yes' } }).catch((e: Error) => e);
    expect((viaSdk as Error).message).toMatch(/^403: sandboxes labelled ask=yes need a human — approval ap_\S+ is pending/);
    // Approved, the same call made again with the approval's id goes through (the SDKs pass extra headers on).
    expect((await native('POST', `/v1/approvals/${asked.body.approvalId}/approve`, { reason: 'test', self: true })).status).toBe(200);
    const approved = await Sandbox.create('base', { ...e2b(), metadata: { ask: 'yes' }, headers: { 'Paddock-Approval': asked.body.approvalId } });
    expect((await approved.getInfo()).metadata).toEqual({ ask: 'yes' });
    await approved.kill();
  });
});

describe('N6, N7: what a key and an E2B option may not widen', () => {
  it('N7: a scoped E2B key keeps its scope: templates and sandbox count as in Paddock’s own API', async () => {
    const scoped = await native('POST', '/v1/tokens', { role: 'agent', e2b: true, scope: { templates: ['base'], maxSandboxes: 1 } });
    const key = scoped.body.token;
    const other = await Sandbox.create('code-interpreter-v1', e2b(key)).catch((e: Error) => e);
    expect((other as Error).message).toMatch(/^403: this token creates sandboxes of base only, not code-interpreter/);
    const first = await Sandbox.create('base', e2b(key));
    const second = await Sandbox.create('base', e2b(key)).catch((e: Error) => e);
    expect((second as Error).message).toMatch(/^403: token tok_\w+ has created all 1 sandboxes it may/);
    // Its sandbox's envd token is a copy of it: no wider.
    const created = await raw('POST', `/v2/sandboxes/${first.sandboxId}/connect`, {}, key);
    const who = await native('GET', '/v1/whoami', undefined, created.body.envdAccessToken);
    expect(who.body).toMatchObject({ role: 'agent', owner: `agent:${scoped.body.id}`, scope: { sandboxes: [first.sandboxId], templates: ['base'] } });
    await first.kill();
  });

  it('N6: E2B options that would open a sandbox further are refused; internet access stays the egress proxy’s', async () => {
    const open = await raw('POST', '/v2/sandboxes', { templateID: 'base', network: { allowPublicTraffic: true } });
    expect(open.body).toMatchObject({ code: 400, error_code: 'unsupported_option', message: expect.stringMatching(/^network\.allowPublicTraffic/) });
    const proxied = await raw('POST', '/v2/sandboxes', { templateID: 'base', network: { egressProxy: { address: 'proxy.example.com:1080' } } });
    expect(proxied.body).toMatchObject({ code: 400, error_code: 'unsupported_option' });
    const everything = await raw('POST', '/v2/sandboxes', { templateID: 'base', allow_internet_access: true, network: { allowOut: ['0.0.0.0/0'] } });
    expect(everything.body).toMatchObject({ code: 400, error_code: 'unsupported_option', message: expect.stringMatching(/address range/) });
    // The Python SDK's default (allow_internet_access: true) is the proxy's rules: nothing allowed unless asked.
    const defaults = await raw('POST', '/sandboxes', { templateID: 'base', timeout: 60, allow_internet_access: true, secure: true });
    const view = await native('GET', `/v1/sandboxes/${defaults.body.sandboxID}/network`);
    expect(view.body).toMatchObject({ mode: 'proxy', allow: [] });
    await raw('DELETE', `/sandboxes/${defaults.body.sandboxID}`);
  });
});

describe('N9: request bodies', () => {
  it('N9: a body that is not declared JSON is refused unread, and a JSON one past the API’s limit is too big', async () => {
    const created = await raw('POST', '/v2/sandboxes', { templateID: 'base' });
    const id = created.body.sandboxID;
    // Valid JSON, 5 MB, sent as text: only JSON bodies are held to the API's size limit, so none other is read.
    const big = JSON.stringify({ memory: true, pad: 'x'.repeat(5 * 1024 * 1024) });
    const asText = await fetch(`${daemon.url}/e2b/sandboxes/${id}/pause`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'text/plain' },
      body: big,
    });
    expect(asText.status).toBe(400);
    expect(await asText.json()).toMatchObject({ code: 400, error_code: 'invalid_json' });
    const asJson = await fetch(`${daemon.url}/e2b/sandboxes/${id}/pause`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: big,
    });
    expect(asJson.status).toBe(413);
    expect(await asJson.json()).toMatchObject({ code: 413, error_code: 'payload_too_large' });
    expect((await Sandbox.getInfo(id, e2b())).state).toBe('running');
    await raw('DELETE', `/sandboxes/${id}`);
  });
});

describe('the Python SDK’s routes (HTTP level: the SDK cannot be installed here)', () => {
  it('POST /sandboxes with its body, connect, refreshes, resume, the older list; errors in E2B’s shape', async () => {
    // What e2b (Python) sends for Sandbox.create() with its defaults.
    const created = await raw('POST', '/sandboxes', {
      templateID: 'base',
      timeout: 300,
      metadata: {},
      envVars: {},
      secure: true,
      allow_internet_access: true,
    });
    expect(created.status).toBe(201);
    // The fields its model requires, and the one it needs to reach envd.
    expect(created.body).toMatchObject({
      templateID: 'base',
      sandboxID: expect.stringMatching(/^sb-/),
      clientID: expect.any(String),
      envdVersion: expect.any(String),
    });
    expect(created.body.envdAccessToken).toEqual(expect.any(String));
    const id = created.body.sandboxID;

    const connected = await raw('POST', `/sandboxes/${id}/connect`, { timeout: 300 });
    expect(connected.status).toBe(200);
    expect(connected.body).toMatchObject({ sandboxID: id, templateID: 'base', clientID: expect.any(String), envdVersion: expect.any(String) });
    expect((await raw('POST', `/sandboxes/${id}/refreshes`, { duration: 60 })).status).toBe(204);
    expect((await raw('POST', `/sandboxes/${id}/timeout`, { timeout: 900 })).status).toBe(204);

    // Its list: GET /v2/sandboxes, metadata quoted pair by pair and then made a query string, state repeated.
    await raw('POST', '/sandboxes', { templateID: 'base', timeout: 300, metadata: { suite: 'x&y z' }, envVars: {}, secure: true });
    const quoted = new URLSearchParams({ suite: encodeURIComponent('x&y z') }).toString();
    const listed = await raw(
      'GET',
      `/v2/sandboxes?${new URLSearchParams([
        ['metadata', quoted],
        ['state', 'running'],
        ['state', 'paused'],
        ['limit', '10'],
      ])}`,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.map((s: { metadata: Record<string, string> }) => s.metadata)).toEqual([{ suite: 'x&y z' }]);
    for (const field of ['templateID', 'sandboxID', 'clientID', 'startedAt', 'endAt', 'cpuCount', 'memoryMB', 'diskSizeMB', 'state', 'envdVersion']) {
      expect(listed.body[0]).toHaveProperty(field);
    }
    await raw('DELETE', `/sandboxes/${listed.body[0].sandboxID}`);

    const running = await raw('GET', '/sandboxes');
    expect(running.body.map((s: { sandboxID: string }) => s.sandboxID)).toContain(id);
    const detail = await raw('GET', `/sandboxes/${id}`);
    for (const field of ['templateID', 'sandboxID', 'clientID', 'startedAt', 'endAt', 'envdVersion', 'cpuCount', 'memoryMB', 'diskSizeMB', 'state']) {
      expect(detail.body).toHaveProperty(field);
    }

    expect(await raw('POST', `/sandboxes/${id}/resume`, { timeout: 60 })).toMatchObject({ status: 409, body: { code: 409 } });
    expect((await raw('POST', `/sandboxes/${id}/pause`)).status).toBe(204);
    expect(await raw('POST', `/sandboxes/${id}/resume`, { timeout: 60 })).toMatchObject({ status: 201, body: { sandboxID: id } });
    expect((await raw('GET', `/sandboxes/${id}/metrics`)).status).toBe(200);
    expect((await raw('DELETE', `/sandboxes/${id}`)).status).toBe(204);

    expect(await raw('GET', `/sandboxes/${id}`)).toMatchObject({ status: 404, body: { code: 404, message: expect.stringContaining(id) } });
    expect(await raw('GET', '/sandboxes/not-an-id')).toMatchObject({ status: 404, body: { code: 404 } });
    expect(await raw('POST', '/sandboxes', { timeout: 'soon' })).toMatchObject({
      status: 400,
      body: { code: 400, message: expect.stringMatching(/templateID/) },
    });
    expect(await raw('GET', '/no/such/route')).toMatchObject({ status: 404, body: { code: 404 } });
  });
});
