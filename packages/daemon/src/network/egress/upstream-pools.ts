import http from 'node:http';
import https from 'node:https';

export interface Pools {
  http: http.Agent;
  https: https.Agent;
}

/**
 * Each sandbox's upstream connection pools, made on its first request.
 * Per sandbox: no connection (and no authenticated session) is shared
 * between sandboxes.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pools>();

  /** @param isServing whether the sandbox is still served: a request decided while it was killed gets no pool. */
  constructor(private readonly isServing: (sandbox: string) => boolean) {}

  of(sandbox: string): Pools | undefined {
    let pools = this.pools.get(sandbox);
    if (!pools) {
      if (!this.isServing(sandbox)) return undefined;
      pools = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };
      this.pools.set(sandbox, pools);
    }
    return pools;
  }

  release(sandbox: string): void {
    const pools = this.pools.get(sandbox);
    pools?.http.destroy();
    pools?.https.destroy();
    this.pools.delete(sandbox);
  }
}
