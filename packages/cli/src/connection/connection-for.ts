import type { Command } from 'commander';
import { type Connection, type ConnectionFlags, resolveConnection } from './resolve-connection.js';

/** The connection for a command, from the global --url/--token and the environment. */
export function connectionFor(command: Command): Connection {
  return resolveConnection(command.optsWithGlobals<ConnectionFlags>());
}
