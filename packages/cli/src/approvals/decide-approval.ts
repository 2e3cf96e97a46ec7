import { Approvals } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { printLines } from '../output/print-lines.js';

type Decide = (id: string, flags: { reason: string; self?: boolean }, command: Command) => Promise<void>;

/** `paddock approvals approve|deny ID --reason …`: prints the id once decided. */
export function decideApproval(verdict: 'approve' | 'deny'): Decide {
  return async (id, flags, command) => {
    // The reason goes to the audit log: an empty one says nothing about why.
    if (flags.reason.trim() === '') throw new UsageError('--reason must say why');
    const connection = connectionFor(command);
    const decided =
      verdict === 'approve'
        ? await Approvals.approve(id, flags.reason, { ...connection, self: flags.self })
        : await Approvals.deny(id, flags.reason, connection);
    printLines([decided.id]);
  };
}

/** `paddock approvals cancel ID [--reason …]`: withdraws a pending request this token made. */
export async function cancelApproval(id: string, flags: { reason?: string }, command: Command): Promise<void> {
  const cancelled = await Approvals.cancel(id, { ...connectionFor(command), reason: flags.reason?.trim() || undefined });
  printLines([cancelled.id]);
}
