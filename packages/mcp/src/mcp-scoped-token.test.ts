import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Sandbox, Tokens } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { cliPath } from '../../daemon/src/testing/run-cli.js';

// The CLI's bundle starts for each client: on a loaded machine that takes longer than the fast tier's in-process tests are given.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// `paddock mcp` on a capability token, end to end: the bundled CLI run by the
// MCP SDK's client over stdio, and the daemon's own /mcp over HTTP, each
// holding a token bound to one sandbox and a few actions.
let daemon: FastDaemon;
let mine: Sandbox;
let other: Sandbox;
let scopedToken: string;
const clients: Client[] = [];

beforeAll(async () => {
  daemon = await startFastDaemon();
  const admin = { url: daemon.url, token: daemon.token };
  [mine, other] = await Promise.all([Sandbox.create(admin), Sandbox.create(admin)]);
  const agent = await Tokens.create({ role: 'agent', name: 'lead agent' }, admin);
  const lead = await Sandbox.connect(mine.id, { url: daemon.url, token: agent.token });
  scopedToken = (await lead.createScopedToken({ actions: ['exec', 'files.read'], ttlMs: 15 * 60_000, name: 'mcp client' })).token;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await daemon?.stop();
});

async function overStdio(token: string): Promise<Client> {
  const env = Object.fromEntries(Object.entries({ ...daemon.env, PADDOCK_TOKEN: token }).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const client = new Client({ name: 'paddock-test', version: '0.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [cliPath(), 'mcp'], env, stderr: 'pipe' }));
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

async function refusal(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const r = await call(client, name, args);
  expect(r.isError, textOf(r)).toBe(true);
  return textOf(r);
}

describe('the MCP server on a scoped token', () => {
  it('Q10: runs what its sandbox-bound token allows, and refuses every call outside the scope with a one-line reason', async () => {
    const client = await overStdio(scopedToken);
    const ran = await call(client, 'run_command', { sandboxId: mine.id, cmd: ['sh', '-c', 'echo scoped > /tmp/q10.txt; cat /tmp/q10.txt'] });
    expect(ran.isError, textOf(ran)).toBeFalsy();
    expect(ran.structuredContent).toMatchObject({ exitCode: 0, stdout: 'scoped\n' });
    const read = await call(client, 'read_file', { sandboxId: mine.id, path: '/tmp/q10.txt' });
    expect(read.isError, textOf(read)).toBeFalsy();
    expect(textOf(read)).toContain('scoped');

    expect(await refusal(client, 'write_file', { sandboxId: mine.id, path: '/tmp/w.txt', content: 'no' })).toMatch(
      /^scope_denied: this token's scope does not allow sandbox\.file\.write/,
    );
    expect(await refusal(client, 'sandbox_kill', { id: mine.id })).toMatch(/^scope_denied: .*sandbox\.kill/);
    expect(await refusal(client, 'sandbox_create', {})).toMatch(/^scope_denied: .*sandbox\.create/);
    expect(await refusal(client, 'run_code', { language: 'bash', code: 'echo hi' })).toMatch(/^scope_denied: .*sandbox\.create/);
    // Another sandbox of the same tenant does not exist for this token, as another tenant's would not.
    expect(await refusal(client, 'run_command', { sandboxId: other.id, cmd: ['true'] })).toMatch(
      new RegExp(`^sandbox_not_found: sandbox ${other.id} not found`),
    );
    expect(await refusal(client, 'read_file', { sandboxId: other.id, path: '/etc/hostname' })).toMatch(/^sandbox_not_found: /);
    expect(await mine.isRunning()).toBe(true);
  });

  it('Q10: the daemon’s /mcp over HTTP, opened with the scoped token, is held to the same scope', async () => {
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const client = new Client({ name: 'paddock-test', version: '0.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${scopedToken}` } } }),
    );
    clients.push(client);
    const ran = await call(client, 'run_command', { sandboxId: mine.id, cmd: ['echo', 'over http'] });
    expect(ran.structuredContent).toMatchObject({ exitCode: 0, stdout: 'over http\n' });
    expect(await refusal(client, 'write_file', { sandboxId: mine.id, path: '/tmp/w.txt', content: 'no' })).toMatch(/^scope_denied: /);
    expect(await refusal(client, 'run_command', { sandboxId: other.id, cmd: ['true'] })).toMatch(/^sandbox_not_found: /);
  });
});
