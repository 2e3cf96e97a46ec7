import type { ApprovalInfo } from '@paddock/sdk';
import { approvalWhat } from './approval-what.js';
import { shorten } from './shorten.js';

// Fixed widths rather than a table: lines are printed as changes come, before
// the widest value is known. Longer values push the line, never get cut.
const widths = { state: 8, id: 15, who: 28, action: 18 };

/** TIME STATE ID PRINCIPAL@TENANT ACTION WHAT — why asked, or who decided and why. */
export function formatApprovalLine(a: ApprovalInfo): string {
  const by = a.selfApproved ? `${a.decidedBy} (self-approved)` : a.decidedBy;
  const why = a.decidedBy ? `${a.state} by ${by}${a.decisionReason ? `: ${a.decisionReason}` : ''}` : a.reason;
  return [
    eventTime(a),
    a.state.padEnd(widths.state),
    a.id.padEnd(widths.id),
    `${a.principal}@${a.tenant}`.padEnd(widths.who),
    a.action.padEnd(widths.action),
    shorten(approvalWhat(a), 60),
    '—',
    shorten(why, 100),
  ].join(' ');
}

/** Expiring and being used leave no time of their own in the record; they happen as the line is printed. */
function eventTime(a: ApprovalInfo): string {
  if (a.state === 'expired' || a.state === 'used') return new Date().toISOString();
  return a.decidedAt ?? a.createdAt;
}
