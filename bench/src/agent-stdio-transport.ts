import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { AgentClient, ExecSession } from '@paddock/engine';

/**
 * An MCP client's stdio transport to a server run in a sandbox through its
 * agent socket, as the gateway reaches its servers, with nothing else on
 * the way: no HTTP, daemon, policy or audit. The gateway row's floor: what
 * the sandbox alone (the agent's hop, the server's process in it) adds to
 * the same server run directly on the host.
 */
export class AgentStdioTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private session: ExecSession | undefined;
  private pending = '';

  constructor(
    private readonly agent: AgentClient,
    private readonly cmd: string[],
  ) {}

  async start(): Promise<void> {
    const session = await this.agent.exec(
      { cmd: this.cmd, env: ['PATH=/usr/local/bin:/usr/bin:/bin'], cwd: '/' },
      { onStdout: (data) => this.receive(data) },
      { timeoutMs: 10_000 },
    );
    this.session = session;
    session.exited.then(
      () => this.onclose?.(),
      (err: Error) => this.onerror?.(err),
    );
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!this.session) throw new Error('the agent transport is not started');
    await this.session.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    this.session?.closeStdin();
  }

  /** Our own fixture server's output: one JSON-RPC message per line. */
  private receive(data: Buffer): void {
    this.pending += data.toString('utf8');
    for (let end = this.pending.indexOf('\n'); end >= 0; end = this.pending.indexOf('\n')) {
      const line = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + 1);
      if (line.trim()) this.onmessage?.(JSON.parse(line) as JSONRPCMessage);
    }
  }
}
