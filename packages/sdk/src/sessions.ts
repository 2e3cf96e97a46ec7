import type { SessionLink } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

/**
 * A one-time link that signs a browser in to the dashboard as the caller's
 * own token, valid for two minutes (`paddock dashboard`). The code is in the
 * URL's fragment, which browsers never send to a server.
 */
export async function createLoginLink(options: ConnectionOptions & RequestOptions = {}): Promise<SessionLink> {
  return new ApiClient(options).json(apiCall('POST /v1/sessions/links'), options);
}
