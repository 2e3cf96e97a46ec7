import type { PortLinkCreated, PortLinkInfo, PortList, PortUrls } from '@paddock/core';
import type { ApiClient, RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';
import { openPortForward, type PortForward, type PortForwardOptions } from './port-forward.js';

export interface ExposeOptions extends RequestOptions {
  /** A public link: anyone holding its URL opens the port, no token needed. Required: a port is private otherwise. */
  public: true;
  /** How long the link works (default 1 h, at most 30 days). */
  ttlMs?: number;
}

/**
 * Servers inside a sandbox, reached through the daemon: by a token that may
 * read the sandbox (`Authorization: Bearer`, as the SDK sends it), or by a
 * public link.
 *
 *   const { ports } = await sbx.ports.list()           // what listens, with URLs
 *   const link = await sbx.ports.expose(8000, { public: true, ttlMs: 3_600_000 })
 *   await sbx.ports.revoke(link.id)
 */
export class Ports {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
  ) {}

  /** Ports something listens on inside the sandbox now (with their URLs), and the public links that still work. */
  async list(options: RequestOptions = {}): Promise<PortList> {
    return this.api.json<PortList>(apiCall('GET /v1/sandboxes/{id}/ports', { id: this.sandboxId }), options);
  }

  /** A public, expiring link to a port; its URLs hold the secret and are shown this once. */
  async expose(port: number, options: ExposeOptions): Promise<PortLinkCreated> {
    const { public: _public, ttlMs, ...request } = options;
    return this.api.json<PortLinkCreated>(apiCall('POST /v1/sandboxes/{id}/port-links', { id: this.sandboxId }), { ...request, json: { port, ttlMs } });
  }

  /** The public links that still work (without their secrets). */
  async links(options: RequestOptions = {}): Promise<PortLinkInfo[]> {
    return (await this.api.json<{ links: PortLinkInfo[] }>(apiCall('GET /v1/sandboxes/{id}/port-links', { id: this.sandboxId }), options)).links;
  }

  /** Revokes a public link: it opens nothing from now on. */
  async revoke(linkId: string, options: RequestOptions = {}): Promise<void> {
    await this.api.json(apiCall('DELETE /v1/sandboxes/{id}/port-links/{link}', { id: this.sandboxId, link: linkId }), options);
  }

  /** Both URLs of a port, whether or not anything listens on it yet. */
  async urls(port: number, options: RequestOptions = {}): Promise<PortUrls> {
    const { urlPatterns } = await this.list(options);
    return { port, hostUrl: urlPatterns.host.replace('<port>', String(port)), pathUrl: urlPatterns.path.replace('<port>', String(port)) };
  }

  /**
   * Raw TCP, like kubectl port-forward: a local port (127.0.0.1, a free one
   * unless `localPort` is given) whose every connection is carried to
   * `remotePort` on the sandbox's loopback. Node only.
   *
   *   const fwd = await sbx.ports.forward(5432, { localPort: 15432 })
   *   // psql -h 127.0.0.1 -p 15432 …
   *   await fwd.close()
   */
  async forward(remotePort: number, options: PortForwardOptions & RequestOptions = {}): Promise<PortForward> {
    // The sandbox and the token are checked once up front: each connection would otherwise fail alone, later.
    await this.list({ signal: options.signal, timeoutMs: options.timeoutMs });
    return openPortForward(this.api, this.sandboxId, remotePort, options);
  }

  /** `<port>-<sandbox>.<domain>:<daemon port>`: the host a port is reached at (its URL is http://<host>/). */
  async getHost(port: number, options: RequestOptions = {}): Promise<string> {
    const { hostPattern } = await this.list(options);
    return hostPattern.replace('<port>', String(port));
  }
}
