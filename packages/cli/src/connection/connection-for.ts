import { type Connection, resolveConnection } from '@paddock/sdk';
import type { Command } from 'commander';

/** The connection for a command: the global --url/--token/--ca-file, then what the SDK finds (environment, local daemon). */
export function connectionFor(command: Command): Connection {
  const { url, token, caFile } = command.optsWithGlobals<{ url?: string; token?: string; caFile?: string }>();
  return resolveConnection({ url, token, caFile });
}
