import { Approvals } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { printLines } from '../output/print-lines.js';

type Decide = (id: string, flags: { reason: string }, command: Command) => Promise<void>;

/** `paddock approvals approve|deny ID --reason …`: prints the id once decided. */
export function decideApproval(verdict: 'approve' | 'deny'): Decide {
  return async (id, flags, command) => {
    // The reason goes to the audit log: an empty one says nothing about why.
    if (flags.reason.trim() === '') throw new UsageError('--reason must say why');
    const decided = await Approvals[verdict](id, flags.reason, connectionFor(command));
    printLines([decided.id]);
  };
}
