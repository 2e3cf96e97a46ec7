import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AgentClient } from '@paddock/engine';
import { ProcessTransport } from '@paddock/mcp/gateway';

/**
 * An MCP client of a server run in a sandbox through its agent socket alone,
 * over the transport the gateway itself uses (ProcessTransport), with nothing
 * else on the way: no HTTP, daemon, policy or audit. The gateway row's floor:
 * what the sandbox (the agent's hop, the server's process in it) adds to the
 * same server run directly on the host. The server lives as long as its sandbox.
 */
export async function mcpClientThroughAgent(agent: AgentClient, cmd: string[]): Promise<Client> {
  let transport: ProcessTransport | undefined;
  const session = await agent.exec(
    { cmd, env: ['PATH=/usr/local/bin:/usr/bin:/bin'], cwd: '/' },
    { onStdout: (data) => transport?.receive(data) },
    { timeoutMs: 10_000 },
  );
  transport = new ProcessTransport({ write: (data) => session.write(data) }, { maxMessageBytes: 1024 * 1024 });
  const ended = () => transport?.ended();
  session.exited.then(ended, ended);
  const client = new Client({ name: 'paddock-bench', version: '0' });
  await client.connect(transport);
  return client;
}
