import { connect, createServer, type Server } from 'node:net';
import { SpliceHelper } from '@paddock/daemon';
import { spliceHelperPath } from '@paddock/engine';
import { pino } from 'pino';

export interface SpliceRelay {
  port: number;
  close(): Promise<void>;
}

/**
 * The floor of any relay hop: a TCP listener on the host whose connections
 * are joined to a server by the same splice helper the daemon hands its
 * downloads and tunnels to (ingress, egress pass-through), with no HTTP,
 * policy, namespace or sandbox in the way: what any relay hop costs.
 */
export async function startSpliceRelay(to: { host: string; port: number }): Promise<SpliceRelay | undefined> {
  const binary = spliceHelperPath();
  if (!binary) return undefined;
  const splice = new SpliceHelper({ binary, logger: pino({ level: 'silent' }) });
  const server: Server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ ...to, noDelay: true }, async () => {
      const moved = await splice.tunnel(client, upstream, 0);
      if (!moved) {
        client.pipe(upstream);
        upstream.pipe(client);
        return;
      }
      client.destroy();
      upstream.destroy();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      splice.close();
    },
  };
}
