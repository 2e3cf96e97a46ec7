import { type ApprovalInfo, type ApprovalState, Approvals } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { timeUntil } from '../output/relative-time.js';
import { approvalWhat } from './approval-what.js';
import { shorten } from './shorten.js';

/** `paddock approvals [ls]`: the requests waiting for a human (or those in --state). */
export async function listApprovals(flags: { state?: ApprovalState | 'all'; json?: boolean }, command: Command): Promise<void> {
  const approvals = await Approvals.list({ ...connectionFor(command), state: flags.state });
  if (flags.json) return printJson(approvals);
  const headers = ['ID', 'TENANT', 'PRINCIPAL', 'ACTION', 'WHAT', 'REASON', 'STATE', 'EXPIRES'];
  process.stdout.write(formatTable(headers, approvals.map(approvalRow)));
}

function approvalRow(a: ApprovalInfo): string[] {
  // Only an undecided or unused approval still has a deadline that matters.
  const expires = a.state === 'pending' || a.state === 'approved' ? timeUntil(a.expiresAt) : '-';
  return [a.id, a.tenant, a.principal, a.action, shorten(approvalWhat(a), 40), shorten(a.reason, 40), a.state, expires];
}
