import type { TenantCreate, TenantInfo, TenantUpdate } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

type CallOptions = ConnectionOptions & RequestOptions;

/**
 * Tenants and their quotas; creating, changing and removing them takes an admin token.
 *
 *   await Tenants.create({ name: 'team-a', maxSandboxes: 10, maxMemoryMiB: 8192 })
 */
export const Tenants = {
  async create(input: TenantCreate, options: CallOptions = {}): Promise<TenantInfo> {
    return new ApiClient(options).json<TenantInfo>(apiCall('POST /v1/tenants'), { json: input, timeoutMs: options.timeoutMs, signal: options.signal });
  },

  async list(options: CallOptions = {}): Promise<TenantInfo[]> {
    return (await new ApiClient(options).json<{ tenants: TenantInfo[] }>(apiCall('GET /v1/tenants'), options)).tenants;
  },

  async get(name: string, options: CallOptions = {}): Promise<TenantInfo> {
    return new ApiClient(options).json<TenantInfo>(apiCall('GET /v1/tenants/{name}', { name }), options);
  },

  /** Changes only the quotas given; null removes a limit. */
  async update(name: string, quotas: TenantUpdate, options: CallOptions = {}): Promise<TenantInfo> {
    return new ApiClient(options).json<TenantInfo>(apiCall('PATCH /v1/tenants/{name}', { name }), {
      json: quotas,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
  },

  /** Fails with a ConflictError while the tenant still has live sandboxes. */
  async remove(name: string, options: CallOptions = {}): Promise<void> {
    await new ApiClient(options).json(apiCall('DELETE /v1/tenants/{name}', { name }), options);
  },
};
