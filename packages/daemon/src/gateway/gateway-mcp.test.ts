import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { AuditEntry } from '@paddock/core';
import { Approvals, Audit, Gateway, Policies, Tokens } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';
import { buildFixtureTemplate, fixtureCommand, fixtureTemplate, textOf, whenReady } from '../testing/gateway-fixture.js';
import { cliPath } from '../testing/run-cli.js';

// A test here starts the CLI, a process, many times: on a loaded machine that
// takes longer than the fast tier's in-process tests are given.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// Gateway tools as MCP clients see them: listed beside Paddock's own by the
// Paddock MCP server over both transports (stdio: `paddock mcp`; Streamable
// HTTP: the daemon's /mcp), called through the daemon's policy, approvals and
// audit, announced with tools/list_changed as servers come and go.
let daemon: FastDaemon;
let agentToken: string;
let operatorToken: string;

beforeAll(async () => {
  daemon = await startFastDaemon();
  await buildFixtureTemplate(daemon.conn);
  await Gateway.add('fixture', { command: fixtureCommand, manifest: { template: fixtureTemplate, tier: 'container' } }, daemon.conn);
  await whenReady('fixture', daemon.conn);
  // Agents call tools; an operator (not the token that minted the agent's) approves what a policy asks about.
  agentToken = (await Tokens.create({ role: 'agent', name: 'mcp-agent' }, daemon.conn)).token;
  operatorToken = (await Tokens.create({ role: 'operator', name: 'mcp-reviewer' }, daemon.conn)).token;
});

afterAll(async () => {
  await daemon?.stop();
});

interface Connected {
  client: Client;
  /** tools/list_changed notifications received so far. */
  listChanged: () => number;
}

async function connect(transport: 'stdio' | 'http', token: string): Promise<Connected> {
  const client = new Client({ name: 'gateway-test', version: '0.0.0' });
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changes += 1;
  });
  if (transport === 'http') {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  } else {
    const env = Object.fromEntries(Object.entries({ ...daemon.env, PADDOCK_TOKEN: token }).filter((e): e is [string, string] => typeof e[1] === 'string'));
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [cliPath(), 'mcp'], env, stderr: 'ignore' }));
  }
  return { client, listChanged: () => changes };
}

const call = async (c: Connected, name: string, args: Record<string, unknown>) => (await c.client.callTool({ name, arguments: args })) as CallToolResult;

describe.each(['http', 'stdio'] as const)('gateway tools over %s', (transport) => {
  let mcp: Connected;

  beforeAll(async () => {
    mcp = await connect(transport, agentToken);
  });

  afterAll(async () => {
    await mcp?.client.close();
  });

  it("lists the server's tools beside Paddock's, with its own schemas, and calls them", async () => {
    const { tools } = await mcp.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['run_command', 'sandbox_create', 'fixture__echo', 'fixture__fetch']));
    const echo = tools.find((t) => t.name === 'fixture__echo');
    expect(echo).toMatchObject({
      description: 'Echoes the text back.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      _meta: { 'paddock/gateway': { server: 'fixture', tool: 'echo' } },
    });
    const result = await call(mcp, 'fixture__echo', { text: `over ${transport}` });
    expect(result).toMatchObject({ content: [{ type: 'text', text: `over ${transport}` }], structuredContent: { text: `over ${transport}` } });
    expect(result.isError).toBeFalsy();
    // A tool the server does not have, and one no server has: tool errors naming the code.
    expect(textOf(await call(mcp, 'fixture__nope', {}))).toMatch(/^gateway_tool_not_found: /);
    expect(textOf(await call(mcp, 'nobody__echo', {}))).toMatch(/^gateway_tool_not_found: /);
  });

  it('a call is one policy decision and one audit record, the same record the API makes for the same call', async () => {
    const last = await Audit.list({ ...daemon.conn, order: 'desc', limit: 1 });
    const after = last[0]?.seq ?? 0;
    const args = { text: `audited over ${transport}` };
    expect((await call(mcp, 'fixture__echo', args)).isError).toBeFalsy();
    expect((await Gateway.callTool('fixture__echo', args, { ...daemon.conn, token: agentToken })).isError).toBeFalsy();
    const records = await Audit.list({ ...daemon.conn, after, action: 'mcp.tool.call' });
    expect(records.map((r) => [r.resource, r.decision, r.outcome])).toEqual([
      ['mcp-server:fixture', 'allow', 'ok'],
      ['mcp-server:fixture', 'allow', 'ok'],
    ]);
    const [viaMcp, viaApi] = records as [AuditEntry, AuditEntry];
    expect(sameCall(viaMcp)).toEqual(sameCall(viaApi));
    expect(viaMcp.requestId).not.toBe(viaApi.requestId);
  });

  it('tells the client with tools/list_changed when a server is added or removed', async () => {
    await mcp.client.listTools();
    const before = mcp.listChanged();
    const name = `late-${transport}`;
    await Gateway.add(name, { command: fixtureCommand, manifest: { template: fixtureTemplate, tier: 'container' } }, daemon.conn);
    await expect.poll(() => mcp.listChanged(), { timeout: 30_000 }).toBeGreaterThan(before);
    await expect.poll(async () => (await mcp.client.listTools()).tools.map((t) => t.name), { timeout: 10_000 }).toContain(`${name}__echo`);
    const afterAdd = mcp.listChanged();
    await Gateway.remove(name, daemon.conn);
    await expect.poll(() => mcp.listChanged(), { timeout: 30_000 }).toBeGreaterThan(afterAdd);
    expect((await mcp.client.listTools()).tools.map((t) => t.name)).not.toContain(`${name}__echo`);
  });
});

describe('a gateway tool call a policy asks a human about', () => {
  it('returns approval_required; once approved, the same call goes ahead on that approval, once', async () => {
    const policy = join(daemon.stateDir, 'policies', '60-ask-danger.cedar');
    writeFileSync(
      policy,
      '@id("ask-danger")\n@ask("a human looks at every danger call")\nforbid (principal, action == Paddock::Action::"mcp.tool.call", resource)\nwhen { context has tool && context.tool == "danger" };\n',
    );
    const mcp = await connect('http', agentToken);
    try {
      await expect.poll(async () => (await Policies.list(daemon.conn)).policies.map((p) => p.name).join(' '), { timeout: 10_000 }).toMatch(/ask-danger/);
      const first = textOf(await call(mcp, 'fixture__danger', { target: 'prod' }));
      expect(first).toMatch(/^approval_required: a human looks at every danger call/);
      expect(first).toMatch(/call fixture__danger again with the same arguments/);
      const [pending] = await Approvals.list({ url: daemon.url, token: operatorToken, state: 'pending' });
      expect(pending).toMatchObject({ action: 'mcp.tool.call', resource: 'mcp-server:fixture', context: { tool: 'danger', arguments: { target: 'prod' } } });

      // Asked again before anyone decided: still waiting, and no second approval is filed.
      expect(textOf(await call(mcp, 'fixture__danger', { target: 'prod' }))).toMatch(/^approval_pending: /);
      expect(await Approvals.list({ url: daemon.url, token: operatorToken, state: 'pending' })).toHaveLength(1);

      await Approvals.approve(pending?.id as string, 'checked', { url: daemon.url, token: operatorToken });
      expect(textOf(await call(mcp, 'fixture__danger', { target: 'prod' }))).toBe('did something to prod');
      // Used once: the next identical call asks again.
      expect(textOf(await call(mcp, 'fixture__danger', { target: 'prod' }))).toMatch(/^approval_required: /);
      // An approval covers its own arguments only.
      expect(textOf(await call(mcp, 'fixture__danger', { target: 'staging' }))).toMatch(/^approval_required: /);
      const counts = JSON.parse(textOf(await call(mcp, 'fixture__calls', {})));
      expect(counts.danger).toBe(1);
    } finally {
      rmSync(policy);
      await mcp.client.close();
    }
  });
});

/** What two records of the same call share: all but when, the request id and the chain. */
function sameCall(r: AuditEntry): Record<string, unknown> {
  const { seq: _seq, ts: _ts, requestId: _requestId, durationMs: _durationMs, prevHash: _prevHash, hash: _hash, ...rest } = r;
  return rest;
}
