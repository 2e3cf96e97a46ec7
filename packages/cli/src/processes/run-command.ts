import type { Connection, Sandbox } from '@paddock/sdk';
import { UsageError } from '../errors/cli-error.js';
import type { CommandRequest } from './command-request.js';
import { streamCommand } from './stream-command.js';

/** Runs a command the way `docker exec` would (-i, -t or neither) and returns the code to exit with. */
export async function runCommand(sbx: Sandbox, conn: Connection, req: CommandRequest): Promise<number> {
  // The terminal API does not carry approvals yet; better refused than ignored.
  if (req.tty && (req.approvalWaitSeconds || req.approvalId)) throw new UsageError('--wait-approval and --approval do not work with --tty yet');
  // The interactive paths need a WebSocket library, too slow to load for every `run`.
  if (req.tty) return (await import('./attach-terminal.js')).attachTerminal(sbx, req);
  if (req.interactive) return (await import('./attach-stdin.js')).attachStdin(sbx, conn, req);
  return streamCommand(sbx, req);
}
