import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { SandboxNetwork } from '../network-service.js';
import type { Target } from './egress-decider.js';
import { egressLimits } from './egress-limits.js';
import type { EgressRecords } from './egress-records.js';
import type { Opened } from './http-forward.js';

export interface TlsInterceptorDeps {
  records: EgressRecords;
  logger: Logger;
  /** Takes each request read inside an opened connection. */
  forward: (req: IncomingMessage, res: ServerResponse, opened: Opened) => Promise<void>;
}

/**
 * Terminates the HTTPS of a host a secret is bound to, with a certificate of
 * the sandbox's own CA, and hands the requests inside to `forward`.
 */
export class TlsInterceptor {
  private readonly opened = new WeakMap<Socket, Opened>();
  /** Parses the requests inside HTTPS the proxy opened; never listens itself. */
  private readonly parser = http.createServer();

  constructor(private readonly deps: TlsInterceptorDeps) {
    this.parser.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const opened = this.opened.get(req.socket);
      if (!opened) return void res.destroy();
      void deps.forward(req, res, opened);
    });
    this.parser.on('clientError', (_err, socket) => socket.destroy());
    this.parser.keepAliveTimeout = 30_000;
  }

  async open(network: SandboxNetwork, via: 'connect' | 'tls', target: Target, socket: Socket): Promise<void> {
    try {
      const context = await (network.leaves as NonNullable<SandboxNetwork['leaves']>).contextFor(target.host);
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
      secure.on('error', () => secure.destroy());
      secure.setTimeout(egressLimits.idleTimeoutMs, () => secure.destroy());
      this.opened.set(secure as Socket, { ...target, sandbox: network.id });
      this.parser.emit('connection', secure);
    } catch (err) {
      this.deps.logger.error({ err, sandbox: network.id, host: target.host }, 'opening HTTPS for a secret failed');
      this.deps.records.refuse(network.id, network, via, target.host, target.port, 'the proxy could not make a certificate for the host');
      socket.destroy();
    }
  }
}
