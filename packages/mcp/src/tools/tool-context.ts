import { ApiClient, type ConnectionOptions } from '@paddock/sdk';
import { PendingWork } from './pending-work.js';

/** What every tool needs: one API client for the daemon, and the record of calls in flight. */
export interface ToolContext {
  connection: ConnectionOptions;
  api: ApiClient;
  work: PendingWork;
}

export function toolContext(connection: ConnectionOptions, work = new PendingWork()): ToolContext {
  return { connection, api: new ApiClient(connection), work };
}
