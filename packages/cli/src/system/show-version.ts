import { paddockVersion } from '@paddock/core/client';
import { ApiClient, apiCall } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';

/** `paddock version`: the daemon's part is best effort, so this works with no daemon at all. */
export async function showVersion(_flags: object, command: Command): Promise<void> {
  process.stdout.write(`paddock ${paddockVersion}\n`);
  const api = new ApiClient({ ...connectionFor(command), requestTimeoutMs: 2000 });
  try {
    // /v1/health is public: no token needed.
    const health = await api.json<{ version: string }>(apiCall('GET /v1/health'));
    process.stdout.write(`paddockd ${health.version}\n`);
  } catch (err) {
    process.stderr.write(`paddock: ${(err as Error).message}\n`);
  }
}
