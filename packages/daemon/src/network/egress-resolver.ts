import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { normalizeHost } from './host-rules.js';

interface Entry {
  addresses: string[];
  expires: number;
}

const minTtlMs = 5_000;
const maxTtlMs = 300_000;
const maxEntries = 10_000;

export interface EgressResolverOptions {
  /** DNS servers (host or host:port); the host's own (resolv.conf) when absent. */
  servers?: string[];
  timeoutMs?: number;
}

/**
 * Resolves names for the egress proxy and for sandboxes' DNS, one cache for
 * both: the address a sandbox was told is the address the proxy checks and
 * connects to.
 */
export class EgressResolver {
  private readonly resolver: Resolver;
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<string[]>>();

  constructor(options: EgressResolverOptions = {}) {
    this.resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: 2 });
    if (options.servers?.length) this.resolver.setServers(options.servers);
  }

  /** IPv4 addresses first, then IPv6; an IP literal is its own answer; [] when the name has none. */
  async resolve(rawHost: string): Promise<string[]> {
    const host = normalizeHost(rawHost);
    if (isIP(host)) return [host];
    const cached = this.cache.get(host);
    if (cached && cached.expires > Date.now()) return cached.addresses;
    let lookup = this.pending.get(host);
    if (!lookup) {
      lookup = this.lookUp(host).finally(() => this.pending.delete(host));
      this.pending.set(host, lookup);
    }
    return lookup;
  }

  private async lookUp(host: string): Promise<string[]> {
    const [v4, v6] = await Promise.all([
      this.resolver.resolve4(host, { ttl: true }).catch(notFoundAsEmpty),
      this.resolver.resolve6(host, { ttl: true }).catch(notFoundAsEmpty),
    ]);
    const records = [...v4, ...v6];
    const ttlMs = Math.min(maxTtlMs, Math.max(minTtlMs, Math.min(...records.map((r) => r.ttl * 1000), maxTtlMs)));
    const addresses = records.map((r) => r.address);
    if (this.cache.size >= maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(host, { addresses, expires: Date.now() + ttlMs });
    return addresses;
  }
}

function notFoundAsEmpty(err: NodeJS.ErrnoException): Array<{ address: string; ttl: number }> {
  if (err.code === 'ENODATA' || err.code === 'ENOTFOUND') return [];
  throw err;
}
