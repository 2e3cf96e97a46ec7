import { printable } from '@paddock/core/client';
import { type ConnectionOptions, Gateway, type GatewayServerInfo } from '@paddock/sdk';
import { CliError } from '../errors/cli-error.js';

/**
 * Waits for a server just added: a line each time its state changes, ending
 * when it is ready, or failing with why it did not start (it keeps trying
 * in the background; `paddock gateway logs` shows more).
 */
export async function waitUntilReady(name: string, conn: ConnectionOptions, out: NodeJS.WriteStream = process.stderr): Promise<GatewayServerInfo> {
  let last = '';
  const started = Date.now();
  for (;;) {
    const server = await Gateway.get(name, conn);
    const startTimeoutMs = Number(server.manifest.startTimeoutMs ?? 60_000);
    if (server.state !== last) {
      out.write(`${name}: ${server.state}${server.state === 'starting' ? ' (its sandbox, then MCP initialize)' : ''}\n`);
      last = server.state;
    }
    if (server.state === 'ready') return server;
    if (server.state === 'restarting' || server.state === 'stopped') {
      throw new CliError(`${name} did not start: ${printable(server.lastError ?? server.state)} (it is tried again; see paddock gateway logs ${name})`);
    }
    if (Date.now() - started > startTimeoutMs + 30_000) throw new CliError(`${name} is still ${server.state}; see paddock gateway logs ${name}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
