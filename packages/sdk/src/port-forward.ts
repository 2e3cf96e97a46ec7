import type { Server, Socket } from 'node:net';
import { type ErrorBody, errorFromBody, PaddockError } from '@paddock/core/client';
import type { ApiClient } from './api-client.js';
import { apiCall } from './api-routes.js';

export interface PortForwardOptions {
  /** Local port to listen on; 0 or absent picks a free one (see `localPort`). */
  localPort?: number;
  /** Local address to listen on (default 127.0.0.1: only this machine). */
  host?: string;
  /** Told when a connection could not be carried (the port is not listening, the sandbox ended). */
  onError?: (err: PaddockError) => void;
}

/** A local port whose connections are carried to a port inside a sandbox. */
export interface PortForward {
  readonly host: string;
  readonly localPort: number;
  /** Connections carried now. */
  connections(): number;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/**
 * Listens on a local port; each connection to it gets its own WebSocket to
 * the daemon's port-forward route, which carries its bytes to `remotePort` on
 * the sandbox's loopback. Node only (a browser cannot listen).
 */
export async function openPortForward(api: ApiClient, sandboxId: string, remotePort: number, options: PortForwardOptions = {}): Promise<PortForward> {
  // Loaded on first use, as attach does: most programs never forward a port.
  const [{ createServer }, { default: WebSocket, createWebSocketStream }, { pipeline }] = await Promise.all([
    import('node:net'),
    import('ws'),
    import('node:stream'),
  ]);
  const target = api.socketTarget(apiCall('GET /v1/sandboxes/{id}/port-forward/{port}', { id: sandboxId, port: remotePort }));
  const open = new Set<Socket>();
  const carry = (local: Socket) => {
    open.add(local);
    local.on('close', () => open.delete(local));
    local.on('error', () => {});
    local.pause();
    const ws = new WebSocket(target.url, { headers: target.headers, ca: target.ca });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => {
        options.onError?.(refusal(res.statusCode ?? 502, text));
        local.destroy();
      });
    });
    ws.once('error', (err) => {
      options.onError?.(new PaddockError('connection_failed', 503, err.message));
      local.destroy();
    });
    ws.once('open', () => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => {});
      const end = () => {
        stream.destroy();
        local.destroy();
      };
      pipeline(local, stream, end);
      pipeline(stream, local, end);
      local.resume();
    });
  };
  const server: Server = createServer(carry);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.localPort ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    host,
    localPort: typeof address === 'object' && address ? address.port : (options.localPort ?? 0),
    connections: () => open.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The daemon's refusal of one connection, as the error the API would have thrown. */
function refusal(status: number, body: string): PaddockError {
  try {
    return errorFromBody(status, JSON.parse(body) as ErrorBody);
  } catch {
    return errorFromBody(status, undefined);
  }
}
