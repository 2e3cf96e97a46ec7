import type { ConnectionInfo, NetworkUpdate, SandboxNetworkInfo } from '@paddock/core';
import type { ApiClient, RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

/**
 * A sandbox's egress: the hosts it may reach (changeable while it runs) and
 * what it tried to reach.
 *
 *   await sbx.network.update({ allow: ['api.github.com'] })
 *   const refused = (await sbx.network.connections()).filter((c) => c.decision === 'deny')
 */
export class Network {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
  ) {}

  /** Rules, secrets (names) and recent connections. */
  async get(options: RequestOptions = {}): Promise<SandboxNetworkInfo> {
    return this.api.json<SandboxNetworkInfo>(apiCall('GET /v1/sandboxes/{id}/network', { id: this.sandboxId }), options);
  }

  /** Adds allowed hosts and/or denies hosts; new connections follow at once. Returns the rules now in force. */
  async update(update: NetworkUpdate, options: RequestOptions = {}): Promise<SandboxNetworkInfo> {
    return this.api.json<SandboxNetworkInfo>(apiCall('PATCH /v1/sandboxes/{id}/network', { id: this.sandboxId }), { ...options, json: update });
  }

  /** Recent connections, allowed and refused, oldest first. */
  async connections(options: RequestOptions = {}): Promise<ConnectionInfo[]> {
    return (await this.get(options)).connections;
  }
}
