import type { Command } from 'commander';
import { parseApprovalWait } from '../approvals/parse-approval-wait.js';
import { connectionFor } from '../connection/connection-for.js';
import { onCleanup } from '../lifecycle/cleanup.js';

/**
 * `paddock mcp`: MCP frames on stdout, diagnostics on stderr. A signal that
 * ends the CLI first closes the server and lets its calls in flight clean up
 * (a run_code's own sandbox is killed).
 */
export async function serveMcp(flags: { approvalWait?: string }, command: Command): Promise<void> {
  const connection = connectionFor(command);
  const approvalWaitSeconds = parseApprovalWait(flags.approvalWait, '--approval-wait');
  // Loaded only here: the MCP SDK is big, and no other command should pay for it.
  const { serveStdio } = await import('@paddock/mcp');
  const stop = new AbortController();
  const served = serveStdio(connection, { signal: stop.signal, approvalWaitSeconds });
  const unregister = onCleanup(async () => {
    stop.abort();
    await served;
  });
  try {
    await served;
  } finally {
    unregister();
  }
}
