import { ApiClient, type ConnectionOptions } from '@paddock/sdk';
import { PendingWork } from './pending-work.js';
import { sdkToolBackend } from './sdk-tool-backend.js';
import type { ToolBackend } from './tool-backend.js';

/** What every tool needs: one API client for the daemon, the backend of the busiest calls, and the record of calls in flight. */
export interface ToolContext {
  connection: ConnectionOptions;
  api: ApiClient;
  backend: ToolBackend;
  work: PendingWork;
}

export function toolContext(connection: ConnectionOptions, work = new PendingWork(), backend?: ToolBackend): ToolContext {
  const api = new ApiClient(connection);
  return { connection, api, backend: backend ?? sdkToolBackend(api, connection), work };
}
