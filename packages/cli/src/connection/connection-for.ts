import { type Connection, resolveConnection } from '@paddock/sdk';
import type { Command } from 'commander';

/** The connection for a command: the global --url/--token, then what the SDK finds (environment, local daemon). */
export function connectionFor(command: Command): Connection {
  return resolveConnection(command.optsWithGlobals<{ url?: string; token?: string }>());
}
