import type { CheckReport } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

/** Removes layers no template uses, fork layers no sandbox uses and build cache layers no template or running build uses (admin); never a layer in use. */
export async function collectGarbage(
  options: ConnectionOptions & RequestOptions = {},
): Promise<{ removedLayers: string[]; removedForkLayers: string[]; removedCacheLayers: string[] }> {
  return new ApiClient(options).json(apiCall('POST /v1/gc'), { ...options, timeoutMs: options.timeoutMs ?? 0 });
}

/** The daemon's security report of its own deployment (admin): host facts, settings and policies; `paddock check` adds live probes. */
export async function checkDeployment(options: ConnectionOptions & RequestOptions = {}): Promise<CheckReport> {
  return new ApiClient(options).json(apiCall('GET /v1/check'), options);
}
