import { chmod, rename, rm } from 'node:fs/promises';
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Authorizer } from '../policy/authorizer.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { SpliceHelper } from '../splice/splice-helper.js';
import type { AddressGuard } from './address-guard.js';
import type { ConnectionLog } from './connection-log.js';
import type { DnsResponder } from './dns-responder.js';
import { type Origin, readArrivalHeader } from './egress/arrival-header.js';
import { DnsAnswerer } from './egress/dns-answerer.js';
import { EgressDecider } from './egress/egress-decider.js';
import { egressLimits } from './egress/egress-limits.js';
import { EgressRecords } from './egress/egress-records.js';
import { HttpForward } from './egress/http-forward.js';
import { SecretInjector } from './egress/secret-injector.js';
import { TlsInterceptor } from './egress/tls-interceptor.js';
import { Tunnel } from './egress/tunnel.js';
import { UpstreamPools } from './egress/upstream-pools.js';
import type { EgressResolver } from './egress-resolver.js';
import type { NetworkService } from './network-service.js';

export interface EgressProxyDeps {
  network: Pick<NetworkService, 'get'>;
  resolver: Pick<EgressResolver, 'resolve'>;
  guard: Pick<AddressGuard, 'refusal'>;
  dns: Pick<DnsResponder, 'answer'>;
  /** Decides network.connect; with a generation, its decisions are remembered briefly until the policies change. */
  authorizer: Authorizer & { readonly generation?: number };
  connections: Pick<ConnectionLog, 'record'>;
  secrets: Pick<SecretStore, 'hostsOf' | 'reveal'>;
  /** Moves a pass-through tunnel's bytes once it is decided; without it, Node copies them. */
  splice?: Pick<SpliceHelper, 'tunnel'>;
  logger: Logger;
  connectTimeoutMs?: number;
}

const egressStagingName = 'egress-listen.sock';

/**
 * The daemon's end of every sandbox's egress: one unix socket per sandbox
 * (in its run folder), where the relay hands over each connection. This
 * part frames connections and hands each to its handler (egress/): the
 * decider checks the sandbox's rules, the policy and the address guard; the
 * proxy resolves names itself and connects to the address it checked.
 * HTTPS passes through untouched unless a secret is bound to the host: then
 * the proxy terminates TLS with a certificate of the sandbox's own CA and
 * puts the secret into the request headers.
 */
export class EgressProxy {
  private readonly servers = new Map<string, net.Server>();
  private readonly origins = new WeakMap<Socket, Origin>();
  private readonly live = new Map<string, Set<Socket>>();
  private readonly pools = new UpstreamPools((sandbox) => this.servers.has(sandbox));
  private readonly http: HttpForward;
  private readonly tunnel: Tunnel;
  private readonly dns: DnsAnswerer;
  /** Parses proxy requests and redirected plain HTTP; never listens itself. */
  private readonly plainParser = http.createServer();

  constructor(deps: EgressProxyDeps) {
    const { network, connectTimeoutMs, logger } = deps;
    const records = new EgressRecords(deps.connections);
    const decider = new EgressDecider({ network, resolver: deps.resolver, guard: deps.guard, authorizer: deps.authorizer, logger });
    const injector = new SecretInjector(deps.secrets);
    this.http = new HttpForward({ network, decider, records, injector, pools: this.pools, logger, connectTimeoutMs });
    const interceptor = new TlsInterceptor({ records, logger, forward: (req, res, opened) => this.http.forwardOpened(req, res, opened) });
    this.tunnel = new Tunnel({ network, decider, records, injector, interceptor, splice: deps.splice, logger, connectTimeoutMs });
    this.dns = new DnsAnswerer({ network, dns: deps.dns, records });
    this.plainParser.on('request', (req, res) => {
      const origin = this.origins.get(req.socket);
      if (!origin) return void res.destroy();
      void this.http.forwardPlain(req, res, origin);
    });
    this.plainParser.on('connect', (req, socket, head) => void this.tunnel.connect(req, socket as Socket, head, this.origins.get(socket as Socket)));
    this.plainParser.on('clientError', (_err, socket) => socket.destroy());
    this.plainParser.keepAliveTimeout = 30_000;
  }

  /**
   * Starts taking a sandbox's connections on its socket. The sandbox's root
   * may plant anything at `socketPath` (its run folder is writable inside),
   * so nothing is done at that path but the final rename, which replaces
   * what is there without following it: the socket is bound and opened up in
   * `stagingDir` (same filesystem, out of the sandbox's sight) first.
   */
  async listen(sandbox: string, socketPath: string, stagingDir: string): Promise<void> {
    await this.close(sandbox);
    const staged = join(stagingDir, `.${egressStagingName}`);
    await rm(staged, { force: true });
    const server = net.createServer((socket) => this.accept(sandbox, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(staged, () => resolve());
    });
    try {
      // The relay runs as the sandbox's root, a host uid of its own.
      await chmod(staged, 0o666);
      await rename(staged, socketPath);
    } catch (err) {
      server.close();
      throw err;
    }
    this.servers.set(sandbox, server);
  }

  /** Stops taking connections and cuts those open (their records are written as they close). */
  async close(sandbox: string): Promise<void> {
    const server = this.servers.get(sandbox);
    this.servers.delete(sandbox);
    for (const socket of this.live.get(sandbox) ?? []) socket.destroy();
    this.live.delete(sandbox);
    this.pools.release(sandbox);
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((id) => this.close(id)));
  }

  /** Counts the sandbox's open connections; false (and the socket closed) beyond its share. */
  private track(sandbox: string, socket: Socket): boolean {
    let set = this.live.get(sandbox);
    if (!set) {
      set = new Set();
      this.live.set(sandbox, set);
    }
    if (set.size >= egressLimits.connectionsPerSandbox) {
      socket.destroy();
      return false;
    }
    set.add(socket);
    socket.once('close', () => set.delete(socket));
    return true;
  }

  private accept(sandbox: string, socket: Socket): void {
    socket.on('error', () => socket.destroy());
    if (!this.track(sandbox, socket)) return;
    socket.setTimeout(egressLimits.helloTimeoutMs, () => socket.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(10);
      if (end < 0) {
        if (buffered.length > egressLimits.headerBytes) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.pause();
      socket.setTimeout(0);
      // From here the socket is closed after a minute without a byte (headers, hellos, DNS, idle keep-alive).
      socket.setTimeout(egressLimits.idleTimeoutMs, () => socket.destroy());
      const origin = readArrivalHeader(sandbox, buffered.subarray(0, end).toString('latin1'));
      if (!origin) return void socket.destroy();
      const rest = buffered.subarray(end + 1);
      if (rest.length) socket.unshift(rest);
      this.dispatch(origin, socket);
    };
    socket.on('data', onData);
  }

  private dispatch(origin: Origin, socket: Socket): void {
    this.origins.set(socket, origin);
    switch (origin.arrival) {
      case 'proxy':
      case 'http':
        this.plainParser.emit('connection', socket);
        socket.resume();
        return;
      case 'tls':
        void this.tunnel.redirectedTls(origin, socket);
        return;
      case 'dns':
      case 'dns-tcp':
        this.dns.serve(origin, socket);
        return;
    }
  }
}
