import type { PoolInfo, PoolSet } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

type CallOptions = ConnectionOptions & RequestOptions;

/**
 * Warm pools (operator tokens and up): sandboxes made in advance, so a create
 * that matches a pool's template, tier and limits starts in milliseconds.
 *
 *   await Pools.set({ template: 'base', size: 20, limits: { memoryMiB: 512 } })
 */
export const Pools = {
  async set(input: PoolSet, options: CallOptions = {}): Promise<PoolInfo> {
    return new ApiClient(options).json<PoolInfo>(apiCall('POST /v1/pools'), { ...options, json: input });
  },

  async list(options: CallOptions = {}): Promise<PoolInfo[]> {
    return (await new ApiClient(options).json<{ pools: PoolInfo[] }>(apiCall('GET /v1/pools'), options)).pools;
  },

  async remove(id: string, options: CallOptions = {}): Promise<void> {
    await new ApiClient(options).json(apiCall('DELETE /v1/pools/{id}', { id }), { ...options, timeoutMs: options.timeoutMs ?? 0 });
  },
};
