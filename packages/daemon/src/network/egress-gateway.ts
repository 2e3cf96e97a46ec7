import { chmod, rename, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { isIP, type Socket } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Authorizer, Decision } from '../policy/authorizer.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { AddressGuard } from './address-guard.js';
import type { ConnectionLog } from './connection-log.js';
import type { DnsResponder } from './dns-responder.js';
import type { EgressResolver } from './egress-resolver.js';
import { hostInPatterns, normalizeHost } from './host-rules.js';
import type { NetworkService, SandboxNetwork } from './network-service.js';
import { maxHelloBytes, readClientHello } from './tls-client-hello.js';
import { maxFirstLineBytes, readTunnelOpening, type TunnelOpening } from './tunnel-opening.js';

export interface EgressGatewayDeps {
  network: NetworkService;
  resolver: EgressResolver;
  guard: AddressGuard;
  dns: DnsResponder;
  /** Decides network.connect; with a generation, its decisions are remembered briefly until the policies change. */
  authorizer: Authorizer & { readonly generation?: number };
  connections: ConnectionLog;
  secrets: SecretStore;
  logger: Logger;
  connectTimeoutMs?: number;
}

/** How a connection reached the relay inside the sandbox (see paddock-egress.c). */
type Arrival = 'proxy' | 'http' | 'tls' | 'dns' | 'dns-tcp';
const arrivals = new Set<Arrival>(['proxy', 'http', 'tls', 'dns', 'dns-tcp']);

interface Origin {
  sandbox: string;
  arrival: Arrival;
  /** The address the sandbox dialled before the redirect, when known. */
  dialled?: { address: string; port: number };
}

/** Where an allowed connection goes: the name it asked for and the one address the proxy checked. */
interface Target {
  host: string;
  port: number;
  address: string;
}

interface Intercepted extends Target {
  sandbox: string;
}

type Verdict = { ok: true; target: Target; network: SandboxNetwork } | { ok: false; reason: string; network?: SandboxNetwork };

const headerLimit = 256;
const egressStagingName = 'egress-listen.sock';
/** Connections one sandbox may hold open through the proxy at once. */
const maxConnectionsPerSandbox = 256;
/** A connection that sends nothing this long (headers, a hello, a tunnel's bytes) is closed. */
const idleTimeoutMs = 60_000;
const tunnelIdleTimeoutMs = 15 * 60_000;
/** DNS questions one connection may have waiting for answers. */
const maxPendingDns = 16;
const decisionTtlMs = 1000;
const helloTimeoutMs = 10_000;
/** Headers that describe one hop, never forwarded. */
const hopHeaders = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade']);

/**
 * The daemon's end of every sandbox's egress: one unix socket per sandbox
 * (in its run folder), where the relay hands over each connection. Requests
 * are checked against the sandbox's rules, the policy and the address
 * guard; the proxy resolves names itself and connects to the address it
 * checked. HTTPS passes through untouched unless a secret is bound to the
 * host: then the proxy terminates TLS with a certificate of the sandbox's own
 * CA and puts the secret into the request headers.
 */
export class EgressGateway {
  private readonly servers = new Map<string, net.Server>();
  private readonly origins = new WeakMap<Socket, Origin>();
  private readonly intercepted = new WeakMap<Socket, Intercepted>();
  private readonly live = new Map<string, Set<Socket>>();
  private readonly agents = new Map<string, { http: http.Agent; https: https.Agent }>();
  private readonly decisions = new Map<string, { decision: Decision; generation: number; at: number }>();
  /** Parses proxy requests and redirected plain HTTP; never listens itself. */
  private readonly plainParser = http.createServer();
  /** Parses the requests inside HTTPS the proxy opened. */
  private readonly openedParser = http.createServer();

  constructor(private readonly deps: EgressGatewayDeps) {
    this.plainParser.on('request', (req, res) => void this.forwardPlain(req, res));
    this.plainParser.on('connect', (req, socket, head) => void this.tunnel(req, socket as Socket, head));
    this.openedParser.on('request', (req, res) => void this.forwardOpened(req, res));
    for (const parser of [this.plainParser, this.openedParser]) {
      parser.on('clientError', (_err, socket) => socket.destroy());
      parser.keepAliveTimeout = 30_000;
    }
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
    const agents = this.agents.get(sandbox);
    agents?.http.destroy();
    agents?.https.destroy();
    this.agents.delete(sandbox);
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
    if (set.size >= maxConnectionsPerSandbox) {
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
    socket.setTimeout(helloTimeoutMs, () => socket.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(10);
      if (end < 0) {
        if (buffered.length > headerLimit) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.pause();
      socket.setTimeout(0);
      // From here the socket is closed after a minute without a byte (headers, hellos, DNS, idle keep-alive).
      socket.setTimeout(idleTimeoutMs, () => socket.destroy());
      const origin = parseHeader(sandbox, buffered.subarray(0, end).toString('latin1'));
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
        void this.redirectedTls(origin, socket);
        return;
      case 'dns':
      case 'dns-tcp':
        this.answerDns(origin, socket);
        return;
    }
  }

  /**
   * Decides one connection: the sandbox's rules, then the policy, then the
   * name's addresses (each checked by the guard). A redirected connection
   * must have dialled one of those addresses.
   */
  private async decide(sandbox: string, rawHost: string, port: number, dialled?: Origin['dialled']): Promise<Verdict> {
    const network = this.deps.network.get(sandbox);
    if (!network || network.mode === 'none') return { ok: false, reason: 'the sandbox has no network' };
    const host = normalizeHost(rawHost);
    if (!host) return { ok: false, reason: 'no host named', network };
    const byRules = network.rules.decide(host, port);
    if (!byRules.allowed) return { ok: false, reason: byRules.reason, network };
    const byPolicy = await this.policyDecision(sandbox, network.tenant, host, port);
    if (byPolicy.effect !== 'allow') return { ok: false, reason: `policy: ${byPolicy.reason}`, network };
    let addresses: string[];
    try {
      addresses = await this.deps.resolver.resolve(host);
    } catch (err) {
      return { ok: false, reason: `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, network };
    }
    if (!addresses.length) return { ok: false, reason: `${host} has no address`, network };
    if (dialled && !addresses.includes(dialled.address)) {
      return { ok: false, reason: `${host} does not resolve to ${dialled.address}, the address dialled`, network };
    }
    const candidates = dialled ? [dialled.address] : addresses;
    const address = candidates.find((a) => !this.deps.guard.refusal(a));
    if (!address) return { ok: false, reason: this.deps.guard.refusal(candidates[0] as string) as string, network };
    return { ok: true, target: { host, port, address }, network };
  }

  /**
   * The policy's word on sandbox → host:port. Requests on a keep-alive
   * connection repeat the same question many times a second: the answer is
   * kept for a second, and never across a change of the policies.
   */
  private async policyDecision(sandbox: string, owner: string, host: string, port: number): Promise<Decision> {
    const key = `${sandbox}\0${host}\0${port}`;
    const generation = this.deps.authorizer.generation;
    const known = this.decisions.get(key);
    if (known && generation !== undefined && known.generation === generation && Date.now() - known.at < decisionTtlMs) return known.decision;
    const decision = await this.deps.authorizer.authorize({
      principal: { id: `sandbox:${sandbox}`, tenant: owner, role: 'agent', owner: `agent:sandbox-${sandbox}` },
      action: 'network.connect',
      resource: `sandbox:${sandbox}`,
      context: { host, port },
    });
    if (generation !== undefined) {
      if (this.decisions.size >= 10_000) this.decisions.clear();
      this.decisions.set(key, { decision, generation, at: Date.now() });
    }
    return decision;
  }

  private refuse(
    sandbox: string,
    network: SandboxNetwork | undefined,
    via: 'http' | 'connect' | 'tls' | 'dns',
    host: string,
    port: number | null,
    reason: string,
  ): void {
    if (!network) return;
    this.deps.connections.record({
      sandbox,
      owner: network.tenant,
      at: new Date().toISOString(),
      via,
      host,
      port,
      address: null,
      decision: 'deny',
      reason,
      intercepted: false,
      bytesOut: 0,
      bytesIn: 0,
      durationMs: null,
    });
  }

  private allowed(network: SandboxNetwork, via: 'http' | 'connect' | 'tls', target: Target, intercepted: boolean) {
    const started = Date.now();
    return (bytesOut: number, bytesIn: number) =>
      this.deps.connections.record({
        sandbox: network.id,
        owner: network.tenant,
        at: new Date(started).toISOString(),
        via,
        host: target.host,
        port: target.port,
        address: target.address,
        decision: 'allow',
        reason: null,
        intercepted,
        bytesOut,
        bytesIn,
        durationMs: Date.now() - started,
      });
  }

  // ---- plain HTTP: proxy requests (absolute URLs) and redirected port 80 ----

  private async forwardPlain(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = this.origins.get(req.socket);
    if (!origin) return void res.destroy();
    const unfit = unforwardable(req);
    const asked: PlainTarget = unfit ? { error: unfit } : plainTarget(req, origin);
    if ('error' in asked) {
      this.refuse(origin.sandbox, this.deps.network.get(origin.sandbox), 'http', asked.host ?? '', asked.port ?? null, asked.error);
      return deny(res, 400, asked.error);
    }
    const verdict = await this.decide(origin.sandbox, asked.host, asked.port, origin.arrival === 'http' ? origin.dialled : undefined);
    if (!verdict.ok) {
      this.refuse(origin.sandbox, verdict.network, 'http', asked.host, asked.port, verdict.reason);
      return deny(res, 403, verdict.reason);
    }
    const agent = this.agentsOf(origin.sandbox)?.http;
    if (!agent) return void res.destroy();
    const done = this.allowed(verdict.network, 'http', verdict.target, false);
    const upstream = http.request({
      host: verdict.target.address,
      port: verdict.target.port,
      method: req.method,
      path: asked.path,
      // An HTTP/1.0 request may name no host; the upstream still needs it.
      headers: { host: req.headers.host ?? hostHeader(asked.host, asked.port), ...forwardedHeaders(req) },
      setHost: false,
      agent,
      timeout: this.deps.connectTimeoutMs ?? 30_000,
    });
    this.relayExchange(req, res, upstream, done);
  }

  // ---- CONNECT tunnels ----

  private async tunnel(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    // Nothing may flow (and be lost) while the decision is made.
    socket.pause();
    const origin = this.origins.get(socket);
    if (origin?.arrival !== 'proxy') return void socket.destroy();
    const authority = splitAuthority(req.url ?? '');
    if (!authority?.port) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const verdict = await this.decide(origin.sandbox, authority.host, authority.port);
    if (!verdict.ok) {
      this.refuse(origin.sandbox, verdict.network, 'connect', normalizeHost(authority.host), authority.port, verdict.reason);
      const body = `paddock egress: ${verdict.reason}\n`;
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Paddock-Refused: 1\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    if (this.bindsSecret(verdict.network, verdict.target.host, verdict.target.port)) return this.open(verdict.network, 'connect', verdict.target, socket);
    this.passThrough(verdict.network, 'connect', verdict.target, socket, undefined);
  }

  // ---- TLS redirected from port 443 ----

  private async redirectedTls(origin: Origin, socket: Socket): Promise<void> {
    const hello = await readOpening(socket, readHelloBytes);
    const network = this.deps.network.get(origin.sandbox);
    const port = origin.dialled?.port ?? 443;
    if ('cut' in hello && !hello.bytes.length && hello.cut === 'end') return void socket.destroy();
    if ('cut' in hello || hello.reading.kind !== 'hello' || !hello.reading.serverName) {
      const reason =
        'cut' in hello
          ? hello.cut === 'deadline'
            ? `no complete TLS hello within ${helloTimeoutMs / 1000} s`
            : 'the connection ended before a complete TLS hello'
          : hello.reading.kind === 'hello'
            ? 'TLS without a server name (SNI): the proxy cannot tell where it goes'
            : 'not TLS';
      this.refuse(origin.sandbox, network, 'tls', origin.dialled?.address ?? '', port, reason);
      return void socket.destroy();
    }
    const host = hello.reading.serverName;
    const verdict = await this.decide(origin.sandbox, host, port, origin.dialled);
    if (!verdict.ok) {
      this.refuse(origin.sandbox, verdict.network, 'tls', normalizeHost(host), port, verdict.reason);
      return void socket.destroy();
    }
    socket.unshift(hello.bytes);
    if (this.bindsSecret(verdict.network, verdict.target.host, verdict.target.port)) return this.open(verdict.network, 'tls', verdict.target, socket);
    this.passThrough(verdict.network, 'tls', verdict.target, socket, hello.reading.serverName);
  }

  /**
   * Joins the sandbox's socket to the upstream address. Through CONNECT, the
   * first bytes are checked before they leave: a TLS hello naming another
   * server than the tunnel's host is refused (domain fronting).
   */
  private passThrough(network: SandboxNetwork, via: 'connect' | 'tls', target: Target, socket: Socket, checkedName: string | undefined): void {
    const upstream = net.connect({ host: target.address, port: target.port, noDelay: true });
    upstream.setTimeout(this.deps.connectTimeoutMs ?? 30_000, () => upstream.destroy());
    upstream.once('connect', () => upstream.setTimeout(0));
    socket.setNoDelay(true);
    socket.setTimeout(tunnelIdleTimeoutMs);
    const done = this.allowed(network, via, target, false);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      upstream.destroy();
      done(upstream.bytesWritten, upstream.bytesRead);
    };
    const join = () => {
      socket.pipe(upstream);
      upstream.pipe(socket);
      socket.resume();
    };
    upstream.on('error', finish);
    socket.on('error', finish);
    upstream.on('close', finish);
    socket.on('close', finish);
    if (checkedName !== undefined || isIP(target.host)) {
      join();
      return;
    }
    void readOpening(socket, readTunnelOpening).then((opening) => {
      // Closed meanwhile (and recorded), or ended having sent nothing: nothing to decide.
      if (finished || ('cut' in opening && opening.cut === 'end' && !opening.bytes.length)) return finish();
      if (opening.bytes.length) socket.unshift(opening.bytes);
      const refusal = tunnelRefusal(opening, target.host);
      if (refusal) {
        finished = true;
        socket.destroy();
        upstream.destroy();
        this.refuse(network.id, network, via, target.host, target.port, refusal);
        return;
      }
      join();
    });
  }

  // ---- HTTPS the proxy opens (a secret is bound to the host) ----

  private bindsSecret(network: SandboxNetwork, host: string, port: number): boolean {
    if (!network.leaves || !network.secrets.length) return false;
    return network.secrets.some(({ name }) => {
      // Only the hosts: nothing is decrypted to decide whether to open the connection.
      const hosts = this.deps.secrets.hostsOf(network.tenant, name);
      return !!hosts && hostInPatterns(host, port, hosts);
    });
  }

  private async open(network: SandboxNetwork, via: 'connect' | 'tls', target: Target, socket: Socket): Promise<void> {
    try {
      const context = await (network.leaves as NonNullable<SandboxNetwork['leaves']>).contextFor(target.host);
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
      secure.on('error', () => secure.destroy());
      secure.setTimeout(idleTimeoutMs, () => secure.destroy());
      this.intercepted.set(secure as Socket, { ...target, sandbox: network.id });
      this.openedParser.emit('connection', secure);
    } catch (err) {
      this.deps.logger.error({ err, sandbox: network.id, host: target.host }, 'opening HTTPS for a secret failed');
      this.refuse(network.id, network, via, target.host, target.port, 'the proxy could not make a certificate for the host');
      socket.destroy();
    }
  }

  private async forwardOpened(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = this.intercepted.get(req.socket);
    const network = target && this.deps.network.get(target.sandbox);
    if (!target || !network) return void res.destroy();
    const named = req.headers.host ? splitAuthority(req.headers.host) : undefined;
    const malformed = isOriginForm(req.url) ? unforwardable(req) : 'a request inside HTTPS names a path, not a URL';
    if (malformed) {
      this.refuse(network.id, network, 'tls', target.host, target.port, malformed);
      return deny(res, 400, malformed);
    }
    if (!named || normalizeHost(named.host) !== target.host) {
      const reason = `the request names ${req.headers.host ?? 'no host'} inside a connection to ${target.host}`;
      this.refuse(network.id, network, 'tls', target.host, target.port, reason);
      return deny(res, 421, reason);
    }
    // The policy may have changed since the connection opened: each request is decided again.
    const verdict = await this.decide(network.id, target.host, target.port);
    if (!verdict.ok) {
      this.refuse(network.id, network, 'tls', target.host, target.port, verdict.reason);
      return deny(res, 403, verdict.reason);
    }
    const agent = this.agentsOf(network.id)?.https;
    if (!agent) return void res.destroy();
    const done = this.allowed(network, 'tls', target, true);
    const upstream = https.request({
      host: target.address,
      port: target.port,
      servername: isIP(target.host) ? undefined : target.host,
      method: req.method,
      path: req.url,
      headers: this.withSecrets(network, target.host, target.port, forwardedHeaders(req)),
      setHost: false,
      agent,
      timeout: this.deps.connectTimeoutMs ?? 30_000,
    });
    this.relayExchange(req, res, upstream, done);
  }

  /** Puts the real values of the secrets bound to this host where their placeholders are, in headers only. */
  private withSecrets(network: SandboxNetwork, host: string, port: number, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    const swaps: Array<[string, string]> = [];
    for (const { name, placeholder } of network.secrets) {
      const secret = this.deps.secrets.reveal(network.tenant, name);
      if (secret && hostInPatterns(host, port, secret.hosts)) swaps.push([placeholder, secret.value]);
    }
    if (!swaps.length) return headers;
    const swap = (value: string) => swaps.reduce((text, [placeholder, real]) => text.replaceAll(placeholder, real), value);
    return Object.fromEntries(
      Object.entries(headers).map(([key, value]) => [key, Array.isArray(value) ? value.map(swap) : typeof value === 'string' ? swap(value) : value]),
    );
  }

  /** Streams a request up and its response back, counting bytes; never buffers a body whole. */
  private relayExchange(req: IncomingMessage, res: ServerResponse, upstream: http.ClientRequest, done: (out: number, inn: number) => void): void {
    let bytesOut = 0;
    let bytesIn = 0;
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      done(bytesOut, bytesIn);
    };
    req.on('data', (d: Buffer) => {
      bytesOut += d.length;
    });
    req.pipe(upstream);
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timed out')));
    upstream.on('response', (answer) => {
      answer.on('data', (d: Buffer) => {
        bytesIn += d.length;
      });
      const status = answer.statusCode && answer.statusCode >= 100 && answer.statusCode <= 599 ? answer.statusCode : 502;
      try {
        // The upstream's own reason phrase may hold anything: the standard one is sent.
        res.writeHead(status, http.STATUS_CODES[status], responseHeaders(answer));
      } catch {
        // A header the upstream sent that Node will not repeat: the exchange ends here.
        answer.destroy();
        res.destroy();
        return;
      }
      answer.pipe(res);
      answer.on('end', record);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      record();
      if (res.headersSent) return void res.destroy();
      deny(res, 502, `upstream: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
    });
    res.on('close', () => {
      record();
      if (!res.writableFinished) upstream.destroy();
    });
  }

  /** The sandbox's upstream connection pools; none once it is gone (a request decided while it was killed). */
  private agentsOf(sandbox: string): { http: http.Agent; https: https.Agent } | undefined {
    let agents = this.agents.get(sandbox);
    if (!agents) {
      if (!this.servers.has(sandbox)) return undefined;
      // Per sandbox: no connection (and no authenticated session) is shared between sandboxes.
      agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };
      this.agents.set(sandbox, agents);
    }
    return agents;
  }

  // ---- DNS ----

  /**
   * Answers length-framed DNS questions in order. At most a few wait at a
   * time: beyond that the socket is paused until answers are written out, so
   * a sandbox that asks without reading holds no more than that.
   */
  private answerDns(origin: Origin, socket: Socket): void {
    let buffered = Buffer.alloc(0);
    let pending = 0;
    let chain = Promise.resolve();
    let ended = false;
    const settleFlow = () => {
      if (pending >= maxPendingDns || socket.writableLength > 64 * 1024) socket.pause();
      else if (!ended) socket.resume();
    };
    socket.on('drain', settleFlow);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const query = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + query.length);
        pending += 1;
        chain = chain
          .then(() => this.answerOne(origin, socket, query))
          .catch(() => {
            socket.destroy();
          })
          .finally(() => {
            pending -= 1;
            settleFlow();
          });
      }
      if (buffered.length > 70_000) socket.destroy();
      settleFlow();
    });
    socket.on('end', () => {
      ended = true;
      void chain.then(() => socket.end());
    });
    socket.resume();
  }

  private async answerOne(origin: Origin, socket: Socket, query: Buffer): Promise<void> {
    const network = this.deps.network.get(origin.sandbox);
    const { reply, decision } = await this.deps.dns.answer(query, network);
    if (decision?.refused) this.refuse(origin.sandbox, network, 'dns', decision.name, null, decision.refused);
    if (!reply.length || socket.destroyed) return;
    const length = Buffer.alloc(2);
    length.writeUInt16BE(reply.length);
    socket.write(Buffer.concat([length, reply]));
  }
}

function parseHeader(sandbox: string, line: string): Origin | undefined {
  const [version, arrival, dialled, ...rest] = line.split(' ');
  if (version !== 'PADDOCK/1' || !arrivals.has(arrival as Arrival) || rest.length) return undefined;
  const origin: Origin = { sandbox, arrival: arrival as Arrival };
  if (dialled && dialled !== '-') {
    const authority = splitAuthority(dialled);
    if (authority?.port && isIP(authority.host)) origin.dialled = { address: authority.host, port: authority.port };
  }
  return origin;
}

/** host[:port] or [v6]:port → parts; undefined when malformed. */
function splitAuthority(text: string): { host: string; port?: number } | undefined {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const [, host, portText] = v6 ?? /^([^:]+)(?::(\d+))?$/.exec(text) ?? [];
  if (!host) return undefined;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) return undefined;
  return { host, port };
}

type PlainTarget = { host: string; port: number; path: string } | { error: string; host?: string; port?: number };

/** Where a plain HTTP request goes: its absolute URL (proxy) or its Host header (redirected). */
function plainTarget(req: IncomingMessage, origin: Origin): PlainTarget {
  const named = req.headers.host ? splitAuthority(req.headers.host) : undefined;
  if (origin.arrival === 'http') {
    if (!named) return { error: 'the request names no host' };
    if (!isOriginForm(req.url)) return { error: 'a request sent straight to a server names a path, not a URL', host: named.host };
    return { host: named.host, port: origin.dialled?.port ?? named.port ?? 80, path: req.url ?? '/' };
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    return { error: 'a proxy request needs an absolute http:// URL' };
  }
  if (url.protocol !== 'http:') return { error: `the proxy forwards http:// URLs; use CONNECT for ${url.protocol}` };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : 80;
  if (named && normalizeHost(named.host) !== normalizeHost(host)) {
    return { error: `the Host header (${req.headers.host}) does not match the URL (${url.host})`, host, port };
  }
  return { host, port, path: `${url.pathname}${url.search}` };
}

/**
 * What a CONNECT tunnel to a named host may carry: TLS naming that host, or
 * a protocol that is neither TLS nor HTTP (SSH …). Plain HTTP would name its
 * own host in a header the tunnel never reads; TLS naming no server, or
 * another one, would be fronting.
 */
function tunnelRefusal(opening: Opening<TunnelOpening>, host: string): string | undefined {
  if ('cut' in opening) {
    return opening.cut === 'deadline'
      ? `the tunnel did not say what it carries within ${helloTimeoutMs / 1000} s (a complete TLS hello or first line)`
      : 'the tunnel ended before it said what it carries';
  }
  const { reading } = opening;
  if (reading.kind === 'tls') {
    if (!reading.serverName) return `TLS names no server; the tunnel was opened to ${host}`;
    if (normalizeHost(reading.serverName) !== host) return `TLS names ${reading.serverName}, the tunnel was opened to ${host}`;
    return undefined;
  }
  if (reading.kind === 'http') return 'plain HTTP inside a CONNECT tunnel: send it to the proxy as a request';
  if (reading.kind === 'too-long') return `the tunnel's first line runs past ${maxFirstLineBytes} bytes without ending`;
  return undefined;
}

/** "/path?query" (or "*" for OPTIONS): what a server expects, and nothing another virtual host could take. */
function isOriginForm(url: string | undefined): boolean {
  return !!url && (url.startsWith('/') || url === '*');
}

function hostHeader(host: string, port: number): string {
  const name = isIP(host) === 6 ? `[${host}]` : host;
  return port === 80 ? name : `${name}:${port}`;
}

/** Headers a Connection header may never name: dropping them would change how the upstream reads the body. */
const framingHeaders = ['content-length', 'transfer-encoding', 'host'];

/** Why a request cannot be forwarded as it is, if it cannot. */
function unforwardable(req: IncomingMessage): string | undefined {
  const listed = (req.headers.connection ?? '').split(',').map((h) => h.trim().toLowerCase());
  const framing = listed.find((h) => framingHeaders.includes(h));
  return framing ? `the Connection header may not name ${framing}` : undefined;
}

function forwardedHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const listed = new Set((req.headers.connection ?? '').split(',').map((h) => h.trim().toLowerCase()));
  const headers: OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined || hopHeaders.has(key) || (listed.has(key) && !framingHeaders.includes(key))) continue;
    headers[key] = value;
  }
  return headers;
}

function responseHeaders(answer: IncomingMessage): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(answer.headers)) {
    if (value !== undefined && !hopHeaders.has(key)) headers[key] = value;
  }
  return headers;
}

function deny(res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) return void res.destroy();
  const body = `paddock egress: ${reason}\n`;
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'x-paddock-refused': '1' });
  res.end(body);
}

type Opening<T> = { bytes: Buffer; reading: T } | { bytes: Buffer; cut: 'deadline' | 'end' };

/**
 * Reads from a paused socket until `read` can tell what the connection
 * carries, however the sender splits its bytes; the bytes come back to
 * unshift. A sender that never lets it tell is cut at a deadline.
 */
function readOpening<T extends { kind: string }>(socket: Socket, read: (bytes: Buffer) => T): Promise<Opening<T>> {
  return new Promise((resolve) => {
    let bytes = Buffer.alloc(0);
    const timer = setTimeout(() => settle({ bytes, cut: 'deadline' }), helloTimeoutMs);
    const settle = (value: Opening<T>) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      const reading = read(bytes);
      if (reading.kind !== 'incomplete') settle({ bytes, reading });
    };
    const onEnd = () => settle({ bytes, cut: 'end' });
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.resume();
  });
}

/** A ClientHello, or not TLS once the bytes say so or grow past any hello. */
function readHelloBytes(bytes: Buffer): ReturnType<typeof readClientHello> {
  const reading = readClientHello(bytes);
  return reading.kind === 'incomplete' && bytes.length > maxHelloBytes ? { kind: 'not-tls' } : reading;
}
