import type { SecretInfo } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

type CallOptions = ConnectionOptions & RequestOptions;

/**
 * Secrets a sandbox uses without seeing them: the sandbox gets a
 * placeholder; the egress proxy puts the value into requests to the
 * secret's hosts only.
 *
 *   await Secrets.set('OPENAI_API_KEY', process.env.OPENAI_API_KEY, { hosts: ['api.openai.com'] })
 *   const sbx = await Sandbox.create({ secrets: ['OPENAI_API_KEY'], network: { allow: ['api.openai.com'] } })
 */
export const Secrets = {
  async set(name: string, value: string, options: CallOptions & { hosts: string[] }): Promise<SecretInfo> {
    const { hosts, ...call } = options;
    return new ApiClient(call).json<SecretInfo>(apiCall('PUT /v1/secrets/{name}', { name }), { ...call, json: { value, hosts } });
  },

  async list(options: CallOptions = {}): Promise<SecretInfo[]> {
    return (await new ApiClient(options).json<{ secrets: SecretInfo[] }>(apiCall('GET /v1/secrets'), options)).secrets;
  },

  async remove(name: string, options: CallOptions = {}): Promise<void> {
    await new ApiClient(options).json(apiCall('DELETE /v1/secrets/{name}', { name }), options);
  },
};
