import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { normalizeHost } from '../host-rules.js';
import type { NetworkService } from '../network-service.js';
import type { Origin } from './arrival-header.js';
import type { EgressDecider } from './egress-decider.js';
import { egressLimits } from './egress-limits.js';
import type { EgressRecords } from './egress-records.js';
import type { SecretInjector } from './secret-injector.js';
import { splitAuthority } from './split-authority.js';
import type { UpstreamPools } from './upstream-pools.js';

export interface HttpForwardDeps {
  network: Pick<NetworkService, 'get'>;
  decider: Pick<EgressDecider, 'decide'>;
  records: EgressRecords;
  injector: SecretInjector;
  pools: UpstreamPools;
  logger: Logger;
  connectTimeoutMs?: number;
}

/** An HTTPS connection the proxy opened: where it goes and whose it is. */
export interface Opened {
  sandbox: string;
  host: string;
  port: number;
  address: string;
}

/** Headers that describe one hop, never forwarded. */
const hopHeaders = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade']);
/** Headers a Connection header may never name: dropping them would change how the upstream reads the body. */
const framingHeaders = ['content-length', 'transfer-encoding', 'host'];

/**
 * Forwards HTTP requests upstream, each decided on its own: plain ones (proxy
 * requests with absolute URLs, and port 80 redirected) and those inside
 * HTTPS the proxy opened, which get the host's secrets in their headers.
 */
export class HttpForward {
  constructor(private readonly deps: HttpForwardDeps) {}

  /** Answers every request: forwarded, refused with a status, or 502 when the proxy itself fails on it. */
  async forwardPlain(req: IncomingMessage, res: ServerResponse, origin: Origin): Promise<void> {
    try {
      await this.forwardPlainRequest(req, res, origin);
    } catch (err) {
      this.failed(err, res, origin.sandbox, 'http', req.headers.host ?? '');
    }
  }

  /** Like forwardPlain, for a request inside HTTPS the proxy opened. */
  async forwardOpened(req: IncomingMessage, res: ServerResponse, target: Opened): Promise<void> {
    try {
      await this.forwardOpenedRequest(req, res, target);
    } catch (err) {
      this.failed(err, res, target.sandbox, 'tls', target.host, target.port);
    }
  }

  private failed(err: unknown, res: ServerResponse, sandbox: string, via: 'http' | 'tls', host: string, port: number | null = null): void {
    this.deps.logger.error({ err, sandbox, host }, 'the egress proxy failed on a request');
    const reason = 'the proxy failed on this request';
    this.deps.records.refuse(sandbox, this.deps.network.get(sandbox), via, host, port, reason);
    deny(res, 502, reason);
  }

  private async forwardPlainRequest(req: IncomingMessage, res: ServerResponse, origin: Origin): Promise<void> {
    const unfit = unforwardable(req);
    const asked: PlainTarget = unfit ? { error: unfit } : plainTarget(req, origin);
    if ('error' in asked) {
      this.deps.records.refuse(origin.sandbox, this.deps.network.get(origin.sandbox), 'http', asked.host ?? '', asked.port ?? null, asked.error);
      return deny(res, 400, asked.error);
    }
    const verdict = await this.deps.decider.decide(origin.sandbox, asked.host, asked.port, origin.arrival === 'http' ? origin.dialled : undefined);
    if (!verdict.ok) {
      this.deps.records.refuse(origin.sandbox, verdict.network, 'http', asked.host, asked.port, verdict.reason);
      return deny(res, 403, verdict.reason);
    }
    const agent = this.deps.pools.of(origin.sandbox)?.http;
    if (!agent) return void res.destroy();
    const done = this.deps.records.allowed(verdict.network, 'http', verdict.target, false);
    const upstream = http.request({
      host: verdict.target.address,
      port: verdict.target.port,
      method: req.method,
      path: asked.path,
      // An HTTP/1.0 request may name no host; the upstream still needs it.
      headers: { host: req.headers.host ?? hostHeader(asked.host, asked.port), ...forwardedHeaders(req) },
      setHost: false,
      agent,
      timeout: this.deps.connectTimeoutMs ?? egressLimits.connectTimeoutMs,
    });
    relayExchange(req, res, upstream, done);
  }

  private async forwardOpenedRequest(req: IncomingMessage, res: ServerResponse, target: Opened): Promise<void> {
    const network = this.deps.network.get(target.sandbox);
    if (!network) return void res.destroy();
    const named = req.headers.host ? splitAuthority(req.headers.host) : undefined;
    const malformed = isOriginForm(req.url) ? unforwardable(req) : 'a request inside HTTPS names a path, not a URL';
    if (malformed) {
      this.deps.records.refuse(network.id, network, 'tls', target.host, target.port, malformed);
      return deny(res, 400, malformed);
    }
    if (!named || normalizeHost(named.host) !== target.host) {
      const reason = `the request names ${req.headers.host ?? 'no host'} inside a connection to ${target.host}`;
      this.deps.records.refuse(network.id, network, 'tls', target.host, target.port, reason);
      return deny(res, 421, reason);
    }
    // The policy may have changed since the connection opened: each request is decided again.
    const verdict = await this.deps.decider.decide(network.id, target.host, target.port);
    if (!verdict.ok) {
      this.deps.records.refuse(network.id, network, 'tls', target.host, target.port, verdict.reason);
      return deny(res, 403, verdict.reason);
    }
    const agent = this.deps.pools.of(network.id)?.https;
    if (!agent) return void res.destroy();
    const done = this.deps.records.allowed(network, 'tls', target, true);
    const upstream = https.request({
      host: target.address,
      port: target.port,
      servername: isIP(target.host) ? undefined : target.host,
      method: req.method,
      path: req.url,
      headers: this.deps.injector.inject(network, target.host, target.port, forwardedHeaders(req)),
      setHost: false,
      agent,
      timeout: this.deps.connectTimeoutMs ?? egressLimits.connectTimeoutMs,
    });
    relayExchange(req, res, upstream, done);
  }
}

/** Streams a request up and its response back, counting bytes; never buffers a body whole. */
function relayExchange(req: IncomingMessage, res: ServerResponse, upstream: http.ClientRequest, done: (out: number, inn: number) => void): void {
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

/** "/path?query" (or "*" for OPTIONS): what a server expects, and nothing another virtual host could take. */
function isOriginForm(url: string | undefined): boolean {
  return !!url && (url.startsWith('/') || url === '*');
}

function hostHeader(host: string, port: number): string {
  const name = isIP(host) === 6 ? `[${host}]` : host;
  return port === 80 ? name : `${name}:${port}`;
}

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
