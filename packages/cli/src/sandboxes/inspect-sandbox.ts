import { ApiClient, apiCall, type SandboxInfo } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { printJson } from '../output/print-json.js';

/** `paddock inspect`: the sandbox as JSON, killed ones included (Sandbox.connect refuses those). */
export async function inspectSandbox(id: string, _flags: { json?: boolean }, command: Command): Promise<void> {
  const api = new ApiClient(connectionFor(command));
  printJson(await api.json<SandboxInfo>(apiCall('GET /v1/sandboxes/{id}', { id })));
}
