import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

/** Removes layers no template uses, fork layers no sandbox uses and build cache layers no template or running build uses (admin); never a layer in use. */
export async function collectGarbage(
  options: ConnectionOptions & RequestOptions = {},
): Promise<{ removedLayers: string[]; removedForkLayers: string[]; removedCacheLayers: string[] }> {
  return new ApiClient(options).json(apiCall('POST /v1/gc'), { ...options, timeoutMs: options.timeoutMs ?? 0 });
}
