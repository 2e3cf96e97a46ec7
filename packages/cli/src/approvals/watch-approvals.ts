import { type ApprovalState, Approvals } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { printLines } from '../output/print-lines.js';
import { formatApprovalLine } from './format-approval-line.js';

/** `paddock approvals watch`: the pending approvals, then each new or changed one until Ctrl-C. */
export async function watchApprovals(flags: { state?: ApprovalState | 'all' }, command: Command): Promise<void> {
  for await (const approval of Approvals.follow({ ...connectionFor(command), state: flags.state })) printLines([formatApprovalLine(approval)]);
}
