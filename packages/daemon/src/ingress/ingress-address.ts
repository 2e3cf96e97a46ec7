import { BadRequestError, type PortUrls } from '@paddock/core';
import { egressPorts } from '@paddock/engine';

/** A request for a server inside a sandbox, as its URL named it. */
export interface IngressTarget {
  sandboxId: string;
  port: number;
  /**
   * host: `<port>-<sandbox>.<domain>`, its own origin (browsers, cookies);
   * path: `/v1/sandboxes/<id>/ports/<port>/…` on the API's origin (header auth only).
   */
  form: 'host' | 'path';
  /** What the server inside is asked for: the path after the prefix, with the query. */
  upstreamPath: string;
  /** The path form's prefix (`/v1/sandboxes/<id>/ports/<port>`), told to the server as X-Forwarded-Prefix. */
  prefix: string;
}

const sandboxIdPattern = 'sb-[a-z0-9]{12}';
const pathForm = /^\/v1\/sandboxes\/([^/?]+)\/ports\/([^/?]+)(\/[^?]*)?(\?.*)?$/;
const forwardForm = /^\/v1\/sandboxes\/([^/?]+)\/port-forward\/([^/?]+)(\?.*)?$/;
const sandboxIdOnly = new RegExp(`^${sandboxIdPattern}$`);

/** Where a port is reached, and which requests are for one. */
export class IngressAddresses {
  private readonly hostForm: RegExp;

  constructor(
    readonly domain: string,
    /** The API's own URL once it listens, e.g. http://127.0.0.1:7423. */
    private readonly apiUrl: () => string,
  ) {
    const escaped = domain.replace(/[.]/g, '\\.');
    // The whole Host header: a name that only ends in the domain (evil-8000-sb-….sandbox.localhost.attacker) is no port URL.
    this.hostForm = new RegExp(`^(\\d{1,5})-(${sandboxIdPattern})\\.${escaped}(?::\\d{1,5})?$`);
  }

  /** Whether a Host header names the ingress domain at all (then it is never the API's). */
  isIngressHost(hostHeader: string): boolean {
    const name = hostHeader.toLowerCase().replace(/:\d{1,5}$/, '');
    return name === this.domain || name.endsWith(`.${this.domain}`);
  }

  /**
   * The target a request names, undefined when it is for the API. A Host in
   * the ingress domain that is not a port URL is refused rather than served
   * the API: that name is the sandboxes' origin, never the daemon's.
   */
  match(hostHeader: string | undefined, url: string): IngressTarget | undefined {
    const host = (hostHeader ?? '').toLowerCase();
    if (host && this.isIngressHost(host)) {
      const m = this.hostForm.exec(host);
      if (!m) throw new BadRequestError(`${hostHeader} is not a port URL (<port>-<sandbox>.${this.domain})`, { host: hostHeader ?? null }, 'bad_host');
      return { sandboxId: m[2] as string, port: parsePort(m[1] as string), form: 'host', upstreamPath: url.startsWith('/') ? url : `/${url}`, prefix: '' };
    }
    const p = pathForm.exec(url);
    if (!p) return undefined;
    const sandboxId = decodeURIComponent(p[1] as string);
    const port = parsePort(p[2] as string);
    const prefix = `/v1/sandboxes/${p[1]}/ports/${p[2]}`;
    return { sandboxId, port, form: 'path', upstreamPath: `${p[3] ?? '/'}${p[4] ?? ''}`, prefix };
  }

  /** The raw TCP stream a `port-forward` WebSocket asks for, if the URL is one. */
  matchForward(url: string): IngressTarget | undefined {
    const f = forwardForm.exec(url);
    if (!f) return undefined;
    return { sandboxId: decodeURIComponent(f[1] as string), port: parsePort(f[2] as string), form: 'path', upstreamPath: '', prefix: '' };
  }

  /** Both URLs of a port; `query` (a link's secret) is added to each. */
  urls(sandboxId: string, port: number, query = ''): PortUrls {
    const api = new URL(this.apiUrl());
    const suffix = query ? `?${query}` : '';
    return {
      port,
      hostUrl: `${api.protocol}//${this.hostPattern(sandboxId).replace('<port>', String(port))}/${suffix}`,
      pathUrl: `${api.origin}/v1/sandboxes/${sandboxId}/ports/${port}/${suffix}`,
    };
  }

  /** `<port>-sb-….sandbox.localhost:7423`: what getHost() fills in. */
  hostPattern(sandboxId: string): string {
    const api = new URL(this.apiUrl());
    return `<port>-${sandboxId}.${this.domain}${api.port ? `:${api.port}` : ''}`;
  }

  /** Whether an id could be a sandbox's at all (anything else is no sandbox, without asking the store). */
  static isSandboxId(id: string): boolean {
    return sandboxIdOnly.test(id);
  }
}

/**
 * The egress relay's listeners on a sandbox's loopback: Paddock's plumbing,
 * not the sandbox's servers. Reaching them from outside would make a client
 * speak to the egress proxy as the sandbox.
 */
const relayPorts = new Set<number>(Object.values(egressPorts));

/** A port as a URL spells it: digits only, 1 to 65535, none of the relay's. */
export function parsePort(text: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new BadRequestError(`invalid port "${text}" (1 to 65535)`, { port: text }, 'invalid_port');
  return checkIngressPort(n);
}

/** Whether ingress may open the port: every port but the relay's. */
export function isIngressPort(port: number): boolean {
  return !relayPorts.has(port);
}

export function checkIngressPort(port: number): number {
  if (!isIngressPort(port)) {
    throw new BadRequestError(`port ${port} is Paddock's egress relay inside the sandbox, not a server of its own`, { port }, 'invalid_port');
  }
  return port;
}
