import type { RegistryLoginInfo } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

type CallOptions = ConnectionOptions & RequestOptions;

/**
 * Logins to image registries, for `Templates.build({ fromImage })`: the
 * daemon keeps the password sealed and presents it only to the registry;
 * it is never returned and never reaches a sandbox.
 *
 *   await Registries.login('registry.example.com', { username: 'ci', password: token })
 */
export const Registries = {
  async login(host: string, login: { username: string; password: string; shared?: boolean }, options: CallOptions = {}): Promise<RegistryLoginInfo> {
    return new ApiClient(options).json<RegistryLoginInfo>(apiCall('PUT /v1/registries/{host}', { host }), { ...options, json: login });
  },

  async list(options: CallOptions = {}): Promise<RegistryLoginInfo[]> {
    return (await new ApiClient(options).json<{ registries: RegistryLoginInfo[] }>(apiCall('GET /v1/registries'), options)).registries;
  },

  /** Removes the tenant's own login, or with shared the admin's shared one. */
  async logout(host: string, options: CallOptions & { shared?: boolean } = {}): Promise<void> {
    const { shared, ...call } = options;
    await new ApiClient(call).json(apiCall('DELETE /v1/registries/{host}', { host }), { ...call, query: { shared: shared ? 'true' : undefined } });
  },
};
