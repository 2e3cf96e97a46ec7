import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import { ConflictError, ForbiddenHostError, ForbiddenOriginError, PaddockError, UnavailableError } from '@paddock/core';
import type { SandboxHost } from '@paddock/engine';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { holdReads, type SpliceHelper, type SpliceOutcome, takeBuffered } from '../splice/splice-helper.js';
import type { IngressAddresses, IngressTarget } from './ingress-address.js';
import { controlPorts, type IngressGate, type IngressGrant, type IngressRequest } from './ingress-gate.js';
import type { IngressRecords, IngressRoute } from './ingress-records.js';
import type { NamespaceDialer } from './namespace-dialer.js';
import { linkParam } from './port-service.js';

export interface IngressProxyDeps {
  addresses: IngressAddresses;
  gate: IngressGate;
  records: IngressRecords;
  engine: Pick<SandboxHost, 'agent'>;
  /** Opens connections into container sandboxes' own network namespaces; without it (or when it cannot) the agent opens them. */
  dialer?: Pick<NamespaceDialer, 'dial'>;
  /** Moves long bodies and upgraded connections outside Node once decided; without it Node copies them. */
  splice?: Pick<SpliceHelper, 'tunnel' | 'body'>;
  logger: Logger;
  /** Host names the path form may be addressed to (the API's own); undefined: any. */
  allowedHostNames?: readonly string[];
  /** Origins a browser may send path-form requests from (the API's own). */
  allowedOrigins: () => string[];
}

/** How long the agent (or paddock-dial) has to open the connection inside the sandbox. */
const connectTimeoutMs = 10_000;
/** Idle keep-alive connections into one port per client, at most, and how long one stays (less than servers' usual 5 s). */
const maxIdleUpstreams = 8;
const idleUpstreamMs = 4000;
/**
 * An answer's body at least this long is handed to the splice helper; a
 * shorter one is copied by Node, which is quicker for it than a hand-over.
 */
export const spliceMinBodyBytes = 1024 * 1024;

// Hop-by-hop headers (RFC 9110 7.6.1) end at each hop; the rest go through.
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * HTTP and WebSocket ingress on the API's own listener. Each request (or
 * upgrade) gets its own connection into the sandbox, opened inside the
 * sandbox's network namespace (a container sandbox's by paddock-dial, a TCP
 * socket made in that namespace; otherwise by the agent): nothing on the host
 * routes into a sandbox, and a server bound to 127.0.0.1 there is reached like any other.
 * Bodies are streamed both ways, never held; a slow side pushes back on the other.
 */
export class IngressProxy {
  /** Client sockets of open connections per sandbox, so that they end with it. */
  private readonly open = new Map<string, Set<Duplex>>();
  /** Client sockets of open connections to a desktop's ports that take input, per sandbox: they end with the takeover. */
  private readonly controlled = new Map<string, Set<Duplex>>();
  /** Keep-alive connections into the sandboxes, per sandbox, port and client. */
  private readonly pools = new Map<string, HttpAgent>();
  /** Port-forward WebSockets; their upgrades are handled here, not by the API's WebSocket routes. */
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  /** How each connection into a sandbox was opened, for its record. */
  private readonly routes = new WeakMap<Duplex, IngressRoute>();

  constructor(private readonly deps: IngressProxyDeps) {}

  /** Serves the request if it is for a sandbox's port; false leaves it to the API. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const target = this.targetOf(req, (err) => answer(res, err));
    if (target === undefined) return false;
    if (target === null) return true;
    this.serve(target, req, res).catch((err: unknown) => {
      if (!res.headersSent) answer(res, err);
      else res.destroy();
    });
    return true;
  }

  /** Serves a request whose target was named otherwise (E2B's E2b-Sandbox-Id and E2b-Sandbox-Port headers). */
  serveTarget(target: IngressTarget, req: IncomingMessage, res: ServerResponse): void {
    try {
      if (target.form === 'path') this.checkApiHost(req, req.headers.host ?? '');
    } catch (err) {
      answer(res, err);
      return;
    }
    this.serve(target, req, res).catch((err: unknown) => {
      if (!res.headersSent) answer(res, err);
      else res.destroy();
    });
  }

  /**
   * Passes a WebSocket (or any) upgrade through to a sandbox's port, or opens
   * a `port-forward` stream; false leaves it to the API.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    socket.on('error', () => {});
    const forward = this.forwardOf(req, (err) => answerRaw(socket, err));
    if (forward === null) return true;
    if (forward) {
      this.forward(forward, req, socket, head).catch((err: unknown) => answerRaw(socket, err));
      return true;
    }
    const target = this.targetOf(req, (err) => answerRaw(socket, err));
    if (target === undefined) return false;
    if (target === null) return true;
    this.tunnel(target, req, socket, head).catch((err: unknown) => answerRaw(socket, err));
    return true;
  }

  /** Ends every connection into a sandbox (it ended, or the daemon stops). */
  closeSandbox(sandboxId: string): void {
    for (const socket of this.open.get(sandboxId) ?? []) socket.destroy();
    this.open.delete(sandboxId);
  }

  /** Ends every open connection to the desktop's ports that take input (the person who opened them no longer holds the sandbox). */
  closeControl(sandboxId: string): void {
    for (const socket of this.controlled.get(sandboxId) ?? []) socket.destroy();
    this.controlled.delete(sandboxId);
  }

  closeAll(): void {
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
    for (const id of [...this.open.keys()]) this.closeSandbox(id);
  }

  /** Open client connections into a sandbox, for tests that look for leaks. */
  openCount(sandboxId: string): number {
    return this.open.get(sandboxId)?.size ?? 0;
  }

  /** A `port-forward` WebSocket on the API's own host; undefined: not one; null: refused (already answered). */
  private forwardOf(req: IncomingMessage, refuse: (err: unknown) => void): IngressTarget | undefined | null {
    const host = req.headers.host;
    if (!host || this.deps.addresses.isIngressHost(host)) return undefined;
    try {
      const target = this.deps.addresses.matchForward(req.url ?? '/');
      if (target) this.checkApiHost(req, host);
      return target;
    } catch (err) {
      refuse(err);
      return null;
    }
  }

  /** The path form and port-forward are the API's: its Host names, its origins. */
  private checkApiHost(req: IncomingMessage, host: string): void {
    if (this.deps.allowedHostNames && !this.deps.allowedHostNames.includes(hostNameOf(host))) throw new ForbiddenHostError(host);
    const origin = req.headers.origin;
    if (origin && !this.deps.allowedOrigins().includes(origin)) throw new ForbiddenOriginError(origin);
  }

  /** undefined: not ingress; null: refused (already answered). */
  private targetOf(req: IncomingMessage, refuse: (err: unknown) => void): IngressTarget | undefined | null {
    const host = req.headers.host;
    // A request naming no host is the API's to refuse (probe D11).
    if (!host) return undefined;
    let target: IngressTarget | undefined;
    try {
      target = this.deps.addresses.match(host, req.url ?? '/');
      if (target?.form === 'path') this.checkApiHost(req, host);
    } catch (err) {
      refuse(err);
      return null;
    }
    return target;
  }

  private async serve(target: IngressTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const grant = await this.deps.gate.admit(target, ingressRequest(req), 'http');
    if (grant.linkFromQuery && target.form === 'host' && req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
      return redirectWithCookie(req, res, grant);
    }
    const started = Date.now();
    const bytes = { in: 0, out: 0 };
    let spliced: Promise<unknown> | undefined;
    const outgoing = httpRequest({
      method: req.method,
      path: upstreamPath(target, grant),
      headers: requestHeaders(req, target, grant),
      agent: this.poolFor(target, grant),
      setHost: false,
    });
    res.on('close', () => {
      // A client gone mid-answer: that upstream connection is not fit to be used again.
      if (!res.writableFinished) outgoing.destroy();
      // Recorded once the helper (if it held the body) has said what it moved.
      void (spliced ?? Promise.resolve()).then(() => this.finish(target, grant, req, bytes, started, this.routeOf(outgoing.socket)));
    });
    req.on('data', (chunk: Buffer) => {
      bytes.in += chunk.length;
    });
    outgoing.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer, target));
      const length = this.deps.splice ? spliceableLength(req, res, answer) : undefined;
      if (length !== undefined) {
        // Stopped now, before the event loop reads on: every later byte of the body is the helper's.
        const upstream = answer.socket as Socket;
        holdReads(upstream);
        spliced = this.spliceBody(answer, res, length, bytes).catch(() => {
          upstream.destroy();
          res.destroy();
        });
        return;
      }
      this.copyBody(answer, res, bytes);
    });
    outgoing.on('error', (err) => {
      if (res.headersSent) return void res.destroy();
      answer(
        res,
        err instanceof PaddockError
          ? err
          : new UnavailableError(`the server on port ${target.port} broke the connection: ${err.message}`, { port: target.port }),
      );
    });
    pipeline(req, outgoing, () => {});
  }

  private copyBody(answer: IncomingMessage, res: ServerResponse, bytes: { out: number }): void {
    answer.on('data', (chunk: Buffer) => {
      bytes.out += chunk.length;
    });
    pipeline(answer, res, () => {});
  }

  /**
   * A long body of known length goes from the sandbox's connection to the
   * client's through the splice helper: Node sends the headers and what it
   * had already read of the body, the helper the rest. That upstream
   * connection is closed after (Node's parser never saw the body end); the
   * client's stays open for its next request.
   */
  private async spliceBody(answer: IncomingMessage, res: ServerResponse, length: number, bytes: { out: number }): Promise<void> {
    const splice = this.deps.splice;
    const upstream = answer.socket as Socket;
    const client = res.socket as Socket;
    answer.on('error', () => {});
    // The rest of the read that carried the headers is parsed after this event: let it land in `answer`.
    await new Promise((resolve) => setImmediate(resolve));
    takeBuffered(upstream);
    const head = takeBuffered(answer as unknown as Socket);
    bytes.out += head.length;
    if (head.length) res.write(head);
    else res.flushHeaders();
    const moved = splice && !res.destroyed ? await splice.body(client, upstream, length - head.length) : undefined;
    if (!moved) {
      if (res.destroyed) return void upstream.destroy();
      return this.copyBody(answer, res, bytes);
    }
    bytes.out += moved.bToA;
    upstream.destroy();
    if (moved.outcome === 'ok') res.end();
    else res.destroy();
  }

  /**
   * Connections to one port kept open between requests of one client (token
   * or link), as any reverse proxy keeps them: a request then costs no new
   * connection (and no new process in the sandbox). They are never shared
   * between clients, and go after a few idle seconds.
   */
  private poolFor(target: IngressTarget, grant: IngressGrant): HttpAgent {
    const key = `${grant.sandbox.id} ${target.port} ${grant.principal}`;
    const pool = this.pools.get(key);
    if (pool) return pool;
    const made = new HttpAgent({ keepAlive: true, maxFreeSockets: maxIdleUpstreams, timeout: idleUpstreamMs });
    made.createConnection = ((_options: unknown, done: (err: Error | null, socket?: Duplex) => void) => {
      this.connect(target, grant).then(
        (upstream) => {
          this.track(target.sandboxId, upstream);
          // Gone with its last connection: a sandbox that ended leaves no pool behind.
          upstream.once('close', () =>
            setImmediate(() => {
              if (this.pools.get(key) === made && Object.keys(made.sockets).length === 0 && Object.keys(made.freeSockets).length === 0) this.pools.delete(key);
            }),
          );
          done(null, upstream);
        },
        (err: Error) => done(err),
      );
      return undefined;
    }) as unknown as HttpAgent['createConnection'];
    this.pools.set(key, made);
    return made;
  }

  private async tunnel(target: IngressTarget, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const opened = await this.dial(target, req, socket, 'http');
    if (!opened) return;
    const { grant, upstream, started } = opened;
    const headers = requestHeaders(req, target, grant, true);
    const lines = [`${req.method} ${upstreamPath(target, grant)} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    const done = (moved?: SpliceOutcome) => this.finish(target, grant, req, socketBytes(upstream, moved), started, this.routeOf(upstream));
    const splice = this.deps.splice;
    // A hand-over that fails outright leaves the sockets in no state to pipe: the connection ends.
    const moved =
      splice && isSocket(socket) ? await splice.tunnel(socket, upstream, 0).catch((): SpliceOutcome => ({ aToB: 0, bToA: 0, outcome: 'error' })) : undefined;
    if (!moved) return joinStreams(socket, upstream, done);
    socket.destroy();
    upstream.destroy();
    done(moved);
  }

  /**
   * Raw TCP over a WebSocket: binary messages both ways carry the stream's
   * bytes, each side's back-pressure reaching the other; either end closing
   * ends both.
   */
  private async forward(target: IngressTarget, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const opened = await this.dial(target, req, socket, 'forward');
    if (!opened) return;
    const { grant, upstream, started } = opened;
    // WebSocket frames are not the stream's bytes: ws unwraps them, so Node copies this one.
    this.sockets.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => {});
      joinStreams(stream, upstream, () => this.finish(target, grant, req, socketBytes(upstream), started, this.routeOf(upstream), 'forward'));
    });
  }

  /** Admits a connection and dials its port, tracked with the sandbox; undefined when the client left meanwhile. */
  private async dial(
    target: IngressTarget,
    req: IncomingMessage,
    socket: Duplex,
    kind: 'http' | 'forward',
  ): Promise<{ grant: IngressGrant; upstream: Socket; started: number } | undefined> {
    const grant = await this.deps.gate.admit(target, ingressRequest(req), kind);
    const upstream = await this.connect(target, grant);
    if (socket.destroyed) {
      upstream.destroy();
      return undefined;
    }
    this.track(target.sandboxId, socket, upstream);
    if (controlPorts.has(target.port)) this.trackIn(this.controlled, target.sandboxId, [socket, upstream]);
    return { grant, upstream, started: Date.now() };
  }

  /**
   * A container sandbox's port is dialled from a socket made in its own
   * network namespace: the daemon then holds a plain TCP connection to the
   * server, which the splice helper joins to the client's. gVisor's loopback
   * lives in runsc's own network stack, out of the kernel's reach: its
   * connections, and any paddock-dial cannot open, are the agent's.
   */
  private async connect(target: IngressTarget, grant: IngressGrant): Promise<Socket> {
    const dialer = this.deps.dialer;
    if (dialer && grant.sandbox.tier === 'container') {
      const socket = await dialer.dial(grant.sandbox.id, target.port, { timeoutMs: connectTimeoutMs });
      if (socket) {
        this.routes.set(socket, 'namespace');
        return socket;
      }
    }
    return this.connectByAgent(target, grant);
  }

  private async connectByAgent(target: IngressTarget, grant: IngressGrant): Promise<Socket> {
    const agent = this.deps.engine.agent(grant.sandbox.id);
    // A sandbox started before ingress existed keeps its older agent, which cannot dial (asked once, then kept).
    const { features } = await agent.hello({ timeoutMs: connectTimeoutMs });
    if (!features.includes('connect')) {
      throw new ConflictError(`sandbox ${grant.sandbox.id} was started by an older paddockd: its agent cannot open ports (start a new sandbox)`, {
        id: grant.sandbox.id,
      });
    }
    try {
      const socket = await agent.connect(target.port, { timeoutMs: connectTimeoutMs });
      this.routes.set(socket, 'agent');
      return socket;
    } catch (err) {
      if (err instanceof PaddockError && err.details.errno === 'ECONNREFUSED') {
        throw new UnavailableError(`nothing listens on port ${target.port} in sandbox ${target.sandboxId}`, { port: target.port }, 'port_not_listening');
      }
      throw err;
    }
  }

  /** Sockets of a sandbox's connections, ended with it; each leaves the set as it closes. */
  private track(sandboxId: string, ...sockets: Duplex[]): void {
    this.trackIn(this.open, sandboxId, sockets);
  }

  private trackIn(map: Map<string, Set<Duplex>>, sandboxId: string, sockets: Duplex[]): void {
    let set = map.get(sandboxId);
    if (!set) {
      set = new Set();
      map.set(sandboxId, set);
    }
    for (const socket of sockets) {
      set.add(socket);
      socket.once('close', () => {
        set.delete(socket);
        if (set.size === 0 && map.get(sandboxId) === set) map.delete(sandboxId);
      });
    }
  }

  private routeOf(upstream: Duplex | null | undefined): IngressRoute | undefined {
    return upstream ? this.routes.get(upstream) : undefined;
  }

  private finish(
    target: IngressTarget,
    grant: IngressGrant,
    req: IncomingMessage,
    bytes: { in: number; out: number },
    started: number,
    route: IngressRoute | undefined,
    via?: 'forward',
  ): void {
    this.deps.records.record({
      sandbox: grant.sandbox.id,
      tenant: grant.sandbox.owner,
      principal: grant.principal,
      decision: 'allow',
      outcome: 'ok',
      details: {
        port: target.port,
        client: clientOf(req),
        via: via ?? grant.via,
        ...(via ? {} : { form: target.form }),
        ...(route ? { route } : {}),
        bytesIn: bytes.in,
        bytesOut: bytes.out,
      },
      durationMs: Date.now() - started,
    });
  }
}

/** What went into the sandbox, and out of it, on one upstream connection (with what the helper moved on it). */
function socketBytes(upstream: Socket, moved?: SpliceOutcome): { in: number; out: number } {
  return { in: upstream.bytesWritten + (moved?.aToB ?? 0), out: upstream.bytesRead + (moved?.bToA ?? 0) };
}

function isSocket(stream: Duplex): stream is Socket {
  return typeof (stream as Socket).setNoDelay === 'function';
}

/**
 * The length of an answer's body when the splice helper should move it: long
 * enough, known in advance (no chunked framing to follow), and with the
 * client's connection free of anything Node still has to write first (its
 * own response, not one queued behind a pipelined one) and of TLS.
 */
function spliceableLength(req: IncomingMessage, res: ServerResponse, answer: IncomingMessage): number | undefined {
  if (req.method === 'HEAD' || !req.complete || answer.headers['transfer-encoding'] !== undefined) return undefined;
  const status = answer.statusCode ?? 0;
  if (status < 200 || status === 204 || status === 304) return undefined;
  const declared = answer.headers['content-length'];
  if (declared === undefined || !/^\d{1,15}$/.test(declared)) return undefined;
  const length = Number(declared);
  if (length < spliceMinBodyBytes) return undefined;
  const client = res.socket as (Socket & { _httpMessage?: unknown; encrypted?: boolean }) | null;
  if (!client || client._httpMessage !== res || client.encrypted) return undefined;
  return length;
}

function ingressRequest(req: IncomingMessage): IngressRequest {
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, client: clientOf(req) };
}

function clientOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unix';
}

/** The path the server inside sees: the link's secret is taken out of the query. */
function upstreamPath(target: IngressTarget, grant: IngressGrant): string {
  if (!grant.linkFromQuery) return target.upstreamPath;
  return withoutLink(target.upstreamPath);
}

function withoutLink(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  params.delete(linkParam);
  const rest = params.toString();
  return rest ? `${path.slice(0, q)}?${rest}` : path.slice(0, q);
}

/**
 * What the server inside is sent: the client's headers less hop-by-hop ones,
 * a Paddock token, and Paddock's link cookie (none of which is the sandbox's
 * to see); the path form sends no cookies at all (see responseHeaders).
 */
function requestHeaders(req: IncomingMessage, target: IngressTarget, grant: IngressGrant, upgrade = false): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (hopByHop.has(name) && !(upgrade && (name === 'connection' || name === 'upgrade'))) continue;
    if (name === 'authorization' && grant.bearerConsumed) continue;
    if (name.startsWith('x-forwarded-')) continue;
    if (name === 'cookie') {
      if (target.form === 'path') continue;
      const kept = value
        .split(';')
        .filter((c) => c.split('=')[0]?.trim() !== linkParam)
        .join(';')
        .trim();
      if (kept) out.cookie = kept;
      continue;
    }
    const prior = out[name];
    out[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  out['x-forwarded-for'] = clientOf(req);
  out['x-forwarded-host'] = req.headers.host ?? '';
  out['x-forwarded-proto'] = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  if (target.prefix) out['x-forwarded-prefix'] = target.prefix;
  return out;
}

/**
 * What the client is sent of the server's answer. The path form serves every
 * sandbox on the API's own origin: its pages run in a CSP sandbox (an opaque
 * origin of their own, so they can read nothing of the API's or another
 * sandbox's) and set no cookies there. On the host form a cookie is kept to
 * the port's own host: a Domain attribute would share it with every sandbox.
 */
function responseHeaders(answer: IncomingMessage, target: IngressTarget): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const raw = answer.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    let value = raw[i + 1] as string;
    if (hopByHop.has(name)) continue;
    if (name === 'set-cookie') {
      if (target.form === 'path') continue;
      value = value
        .split(';')
        .filter((attr) => attr.split('=')[0]?.trim().toLowerCase() !== 'domain')
        .join(';');
    }
    const prior = out[name];
    out[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  if (target.form === 'path') {
    const csp = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';
    const prior = out['content-security-policy'];
    out['content-security-policy'] = prior === undefined ? csp : [...(Array.isArray(prior) ? prior : [prior]), csp];
  }
  return out;
}

/** A browser that opened a link: the secret moves from the URL into a cookie of this port's host alone. */
function redirectWithCookie(req: IncomingMessage, res: ServerResponse, grant: IngressGrant): void {
  const secret = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get(linkParam) ?? '';
  const maxAge = Math.max(1, Math.floor((Date.parse(grant.link?.expiresAt ?? '') - Date.now()) / 1000));
  res.writeHead(302, {
    location: withoutLink(req.url ?? '/'),
    'set-cookie': `${linkParam}=${secret}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax`,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-length': '0',
  });
  res.end();
}

function errorOf(err: unknown): PaddockError {
  if (err instanceof PaddockError) return err;
  return new PaddockError('internal_error', 500, 'internal error while opening the port; the daemon log has details');
}

function answer(res: ServerResponse, err: unknown): void {
  const e = errorOf(err);
  const body = JSON.stringify(e.toJSON());
  if (res.headersSent) return void res.destroy();
  res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** An upgrade refused: a plain HTTP answer on the raw socket, then closed. */
function answerRaw(socket: Duplex, err: unknown): void {
  const e = errorOf(err);
  const body = JSON.stringify(e.toJSON());
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${e.status} ${e.code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** "example.com:7423" → "example.com"; "[::1]:7423" → "::1". */
function hostNameOf(hostHeader: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(hostHeader);
  if (bracketed?.[1]) return bracketed[1].toLowerCase();
  return (hostHeader.split(':')[0] ?? '').toLowerCase();
}

/** The 'close' listeners (and fewer of other events) that the two pipelines of joinStreams hold on each stream while joined. */
const listenersPerJoin = 8;

/** Pipes two streams both ways; the first end of either closes both, and `ended` runs once. */
function joinStreams(client: Duplex, upstream: Duplex, ended: () => void): void {
  // A fixed number per connection, not a leak: without room for them Node warns of one on every joined connection.
  for (const stream of [client, upstream]) stream.setMaxListeners(stream.getMaxListeners() + listenersPerJoin);
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    client.destroy();
    upstream.destroy();
    ended();
  };
  pipeline(client, upstream, end);
  pipeline(upstream, client, end);
}
