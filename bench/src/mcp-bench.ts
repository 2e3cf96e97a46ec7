import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AgentClient } from '@paddock/engine';
import { Gateway, Sandbox, type SandboxInfo, Templates } from '@paddock/sdk';
import { mcpClientThroughAgent } from './agent-mcp-client.js';
import { agentSocketOf, cliMain, repoRoot } from './bench-daemon.js';
import { type BenchContext, steadyWarmUpCalls } from './benchmarks.js';
import { mcpStdioFloorSource, startMcpClientFloor } from './mcp-client-floor.js';
import { type McpGatewayFloor, startMcpGatewayFloor } from './mcp-gateway-floor.js';
import { mcpStdioRelayFile } from './mcp-stdio-relay.js';
import { procStatusBytes, toMiB } from './memory.js';
import { openPlainMcpSession, type PlainMcpSession } from './plain-mcp-session.js';
import { type CallWay, timeInRuns } from './runs-of-calls.js';
import { sleep } from './timed-spawn.js';

/** The test suite's third-party-style MCP server, the one every gateway variant and the direct baseline call. */
const fixtureServer = join(repoRoot, 'packages/daemon/src/testing/fixture-mcp-server.mjs');

/** What the gateway's tool, and the same tool of the server run directly, are called with. */
const echo = { text: 'ping' };

/**
 * MCP, in one run: `run_command` through the Paddock MCP server (Streamable
 * HTTP at /mcp, and stdio through `paddock mcp`) against the same exec
 * through the SDK; then one tool call of a third-party server through the
 * gateway (its sandbox, the daemon's policy and audit) against the same call
 * to the same server run directly as a local stdio process, as an MCP client
 * would without Paddock.
 */
export interface McpOutcome {
  rssBeforeMiB: number;
  rssAfterMiB: number;
}

export async function benchMcp(ctx: BenchContext): Promise<McpOutcome> {
  const rssBeforeMiB = toMiB(procStatusBytes(ctx.daemon.endpoint.pid));
  const conn = { url: ctx.daemon.endpoint.url, token: ctx.daemon.token };
  const clients = new OpenMcpClients(ctx.daemon.token);
  const plainSessions: PlainMcpSession[] = [];
  // The same session without the MCP SDK's client: what the daemon's side costs, and what Node's fetch (the SDK transport's HTTP client) adds to it.
  const plain = async (via: 'node-http' | 'fetch') => {
    const session = await openPlainMcpSession(`${conn.url}/mcp`, conn.token, via);
    plainSessions.push(session);
    return session;
  };
  const stdioEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', PADDOCK_URL: conn.url, PADDOCK_TOKEN: conn.token };
  const sandbox = await ctx.daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base', timeoutMs: 30 * 60_000, network: { mode: 'none' } });
  try {
    const http = await clients.connect(new URL(`${conn.url}/mcp`));
    const stdio = await clients.connect({ command: process.execPath, args: [cliMain, 'mcp'], env: stdioEnv, stderr: 'ignore' });
    // The floor of the stdio way: a second process on pipes that runs the SDK's exec per call, with no MCP server in it.
    const relay = await clients.connect({ command: process.execPath, args: [mcpStdioRelayFile], env: stdioEnv, stderr: 'ignore' });
    const post = await plain('node-http');
    const fetched = await plain('fetch');
    const sdk = await Sandbox.connect(sandbox.id, conn);
    const runArgs = { sandboxId: sandbox.id, cmd: ['true'] };
    const runCommand = (client: Client) => async () => expectOk(await client.callTool({ name: 'run_command', arguments: runArgs }));
    // The daemon's CPU per call, beside the times: what its one JS thread spends on each way's calls.
    const daemonPid = ctx.daemon.endpoint.pid;
    await timeInRuns(ctx, 'mcp.exec', [
      { name: 'sdk', run: () => sdk.commands.run(['true']), serverPid: daemonPid },
      { name: 'mcpHttp', run: runCommand(http), serverPid: daemonPid },
      { name: 'mcpStdio', run: runCommand(stdio), serverPid: daemonPid },
      { name: 'mcpStdioRelay', run: runCommand(relay), serverPid: daemonPid },
      { name: 'mcpPost', run: async () => expectOk(await post.callTool('run_command', runArgs)), serverPid: daemonPid },
      { name: 'mcpFetch', run: async () => expectOk(await fetched.callTool('run_command', runArgs)), serverPid: daemonPid },
    ]);

    await benchClientFloor(ctx);

    await withGatewayServer(ctx, async (g) => {
      await timeInRuns(ctx, 'mcp.gateway', [
        g.ways.direct,
        g.ways.agent,
        g.ways.relay,
        { name: 'api', run: async () => expectOk((await Gateway.callTool('bench__echo', echo, conn)) as CallToolResult), serverPid: daemonPid },
        g.ways.mcpHttp,
        { name: 'mcpStdio', run: async () => expectOk(await stdio.callTool({ name: 'bench__echo', arguments: echo })), serverPid: daemonPid },
        { name: 'mcpPost', run: async () => expectOk(await post.callTool('bench__echo', echo)), serverPid: daemonPid },
      ]);
    });
  } finally {
    await Promise.all(plainSessions.map((p) => p.close()));
    await clients.closeAll();
    await ctx.daemon.api.call('DELETE', `/v1/sandboxes/${sandbox.id}`).catch(() => {});
  }
  await sleep(1000);
  return { rssBeforeMiB, rssAfterMiB: toMiB(procStatusBytes(ctx.daemon.endpoint.pid)) };
}

type StdioServer = ConstructorParameters<typeof StdioClientTransport>[0];

/** The MCP SDK clients a section opens, ended together as a client that is done ends them. */
class OpenMcpClients {
  private readonly clients: Client[] = [];
  private readonly sessions: StreamableHTTPClientTransport[] = [];

  constructor(private readonly token: string) {}

  /** A client of a stdio server, or over Streamable HTTP, with the daemon's token unless told otherwise. */
  async connect(transport: StdioServer | URL, withToken = true): Promise<Client> {
    const client = new Client({ name: 'paddock-bench', version: '0' });
    if (transport instanceof URL) {
      const headers: Record<string, string> = withToken ? { authorization: `Bearer ${this.token}` } : {};
      const http = new StreamableHTTPClientTransport(transport, { requestInit: { headers } });
      this.sessions.push(http);
      await client.connect(http);
    } else await client.connect(new StdioClientTransport(transport));
    this.add(client);
    return client;
  }

  add(client: Client): void {
    this.clients.push(client);
  }

  /** Ends each HTTP session (DELETE /mcp), so the daemon holds none after, then closes every client. */
  async closeAll(): Promise<void> {
    await Promise.all(this.sessions.map((t) => t.terminateSession().catch(() => {})));
    await Promise.all(this.clients.map((c) => c.close().catch(() => {})));
  }
}

interface GatewayWays {
  ways: Record<'direct' | 'agent' | 'relay' | 'mcpHttp', CallWay>;
}

/**
 * The gateway's test server, added to the gateway from a template of its
 * own, and the ways to call its echo tool: directly (a local stdio process),
 * in a sandbox of the same template over its agent socket alone, through the
 * bare Node relay on that socket (the floor), and as a gateway tool by an MCP
 * client over /mcp. All of it is removed once `work` has ended.
 */
async function withGatewayServer(ctx: BenchContext, work: (g: GatewayWays) => Promise<void>): Promise<void> {
  const conn = { url: ctx.daemon.endpoint.url, token: ctx.daemon.token };
  const clients = new OpenMcpClients(ctx.daemon.token);
  let serverSandbox: string | undefined;
  let relayServer: McpGatewayFloor | undefined;
  try {
    ctx.progress('  building a template with the MCP server, and adding it to the gateway …');
    await buildServerTemplate(conn);
    await Gateway.add('bench', { command: ['node', '/opt/fixture/server.mjs'], manifest: { template: 'bench-mcp', tier: 'container' } }, conn);
    await waitReady('bench', conn);
    const direct = await clients.connect({ command: process.execPath, args: [fixtureServer], stderr: 'ignore' });
    // The floor: the same server in a sandbox of the same template, reached through its agent socket alone.
    const inSandbox = await ctx.daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', {
      template: 'bench-mcp',
      timeoutMs: 30 * 60_000,
      network: { mode: 'none' },
    });
    serverSandbox = inSandbox.id;
    const serverSocket = agentSocketOf(ctx.daemon, inSandbox.id);
    const throughAgent = await mcpClientThroughAgent(new AgentClient(serverSocket, inSandbox.id), ['node', '/opt/fixture/server.mjs']);
    clients.add(throughAgent);
    // The floor over HTTP: the MCP client to a bare Node relay in front of the same server, in the same sandbox.
    relayServer = await startMcpGatewayFloor(ctx.daemon.stateDir, serverSocket, inSandbox.id, ['node', '/opt/fixture/server.mjs']);
    const throughRelay = await clients.connect(new URL(relayServer.url), false);
    const http = await clients.connect(new URL(`${conn.url}/mcp`));
    const call = (client: Client, name: string) => async () => expectOk(await client.callTool({ name, arguments: echo }));
    await work({
      ways: {
        direct: { name: 'direct', run: call(direct, 'echo') },
        agent: { name: 'agent', run: call(throughAgent, 'echo') },
        relay: { name: 'relay', run: call(throughRelay, 'echo'), serverPid: relayServer.pid },
        mcpHttp: { name: 'mcpHttp', run: call(http, 'bench__echo'), serverPid: ctx.daemon.endpoint.pid },
      },
    });
  } finally {
    await clients.closeAll();
    await relayServer?.stop();
    await Gateway.remove('bench', conn).catch(() => {});
    if (serverSandbox) await ctx.daemon.api.call('DELETE', `/v1/sandboxes/${serverSandbox}`).catch(() => {});
    await Templates.remove('bench-mcp', conn).catch(() => {});
  }
}

/**
 * The gateway row once the daemon is warm (as benchSteadyExec does for the
 * exec): the gateway tool over /mcp and the relay floor, each called
 * `steadyWarmUpCalls` times untimed, then timed as the MCP section times
 * them, beside the server run directly. Not judged; shown beside the row.
 */
export async function benchSteadyGateway(ctx: BenchContext): Promise<void> {
  await withGatewayServer(ctx, async ({ ways }) => {
    for (let i = 0; i < steadyWarmUpCalls; i++) {
      ctx.signal.throwIfAborted();
      await ways.mcpHttp.run();
      await ways.relay.run();
    }
    await timeInRuns(ctx, 'mcp.gatewaySteady', [ways.direct, ways.relay, ways.mcpHttp]);
  });
}

/**
 * The clients alone: the same tools/call against a server that answers at
 * once (mcp-client-floor.ts), as a bare POST over Node's http, through Node's
 * fetch, and by the MCP SDK's client; what the last two add is theirs, not
 * the daemon's.
 */
async function benchClientFloor(ctx: BenchContext): Promise<void> {
  const floor = await startMcpClientFloor();
  const plain: PlainMcpSession[] = [];
  const client = new Client({ name: 'paddock-bench', version: '0' });
  const transport = new StreamableHTTPClientTransport(new URL(floor.url));
  const stdioClient = new Client({ name: 'paddock-bench', version: '0' });
  try {
    await stdioClient.connect(new StdioClientTransport({ command: process.execPath, args: ['-e', mcpStdioFloorSource], stderr: 'ignore' }));
    plain.push(await openPlainMcpSession(floor.url, 'none', 'node-http'), await openPlainMcpSession(floor.url, 'none', 'fetch'));
    const [post, fetched] = plain as [PlainMcpSession, PlainMcpSession];
    await client.connect(transport);
    const args = { sandboxId: 'sb-floor', cmd: ['true'] };
    await timeInRuns(ctx, 'mcp.floor', [
      { name: 'nodeHttp', run: async () => expectOk(await post.callTool('run_command', args)) },
      { name: 'fetch', run: async () => expectOk(await fetched.callTool('run_command', args)) },
      { name: 'mcpClient', run: async () => expectOk(await client.callTool({ name: 'run_command', arguments: args })) },
      { name: 'mcpStdioClient', run: async () => expectOk(await stdioClient.callTool({ name: 'run_command', arguments: args })) },
    ]);
  } finally {
    await stdioClient.close().catch(() => {});
    await transport.terminateSession().catch(() => {});
    await client.close().catch(() => {});
    await Promise.all(plain.map((p) => p.close()));
    await floor.stop();
  }
}

function expectOk(result: unknown): void {
  const r = result as CallToolResult;
  if (r.isError) throw new Error(`a tool call failed: ${JSON.stringify(r.content).slice(0, 300)}`);
}

async function buildServerTemplate(conn: { url: string; token: string }): Promise<void> {
  const context = await mkdtemp('/tmp/paddock-bench-mcp-');
  try {
    execFileSync('cp', [fixtureServer, join(context, 'server.mjs')]);
    await Templates.build({
      ...conn,
      name: 'bench-mcp',
      paddockfile: 'FROM base\nCOPY server.mjs /opt/fixture/server.mjs\n',
      context: new Uint8Array(execFileSync('tar', ['-c', '-C', context, '.'])),
    });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

async function waitReady(name: string, conn: { url: string; token: string }): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const server = await Gateway.get(name, conn);
    if (server.state === 'ready') return;
    if (Date.now() > deadline) throw new Error(`gateway server ${name} did not start: ${server.lastError ?? server.state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
