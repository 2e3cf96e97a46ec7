import type { AuditEntry } from '@paddock/sdk';

// Fixed widths rather than a table: with -f the lines are printed as they come,
// before the widest value is known. Longer values push the line, never get cut.
const widths = { seq: 7, who: 28, action: 22, resource: 32, decision: 5 };

/** TS #SEQ PRINCIPAL@TENANT ACTION RESOURCE DECISION OUTCOME. */
export function formatAuditLine(r: AuditEntry): string {
  return [
    r.ts,
    `#${r.seq}`.padEnd(widths.seq),
    `${r.principal}@${r.tenant}`.padEnd(widths.who),
    r.action.padEnd(widths.action),
    (r.resource || '-').padEnd(widths.resource),
    r.decision.padEnd(widths.decision),
    r.outcome,
  ].join(' ');
}
