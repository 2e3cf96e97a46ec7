import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/database.js';

export interface AuditRecord {
  requestId: string | null;
  principal: string;
  action: string;
  resource: string;
  decision: 'allow' | 'deny' | 'ask';
  /** ok, or the error code the action ended with */
  outcome: string;
  details: Record<string, unknown>;
}

export interface StoredAuditRecord extends AuditRecord {
  seq: number;
  ts: string;
}

/**
 * The audit seam: every API action lands here once, with its decision and
 * outcome. Append-only (the table refuses UPDATE and DELETE); the governance
 * issue adds the hash chain and export.
 */
export interface AuditLog {
  append(record: AuditRecord): void;
  list(options?: { afterSeq?: number; limit?: number }): StoredAuditRecord[];
}

export class SqliteAuditLog implements AuditLog {
  private readonly insert: Statement;
  private readonly select: Statement;

  constructor(db: Db) {
    // Every API call appends: prepare once, not per record.
    this.insert = db.prepare('INSERT INTO audit (ts, request_id, principal, action, resource, decision, outcome, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.select = db.prepare('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?');
  }

  append(r: AuditRecord): void {
    this.insert.run(new Date().toISOString(), r.requestId, r.principal, r.action, r.resource, r.decision, r.outcome, JSON.stringify(r.details));
  }

  list(options: { afterSeq?: number; limit?: number } = {}): StoredAuditRecord[] {
    const rows = this.select.all(options.afterSeq ?? 0, options.limit ?? 1000) as Array<{
      seq: number;
      ts: string;
      request_id: string | null;
      principal: string;
      action: string;
      resource: string;
      decision: AuditRecord['decision'];
      outcome: string;
      details: string;
    }>;
    return rows.map((r) => ({
      seq: r.seq,
      ts: r.ts,
      requestId: r.request_id,
      principal: r.principal,
      action: r.action,
      resource: r.resource,
      decision: r.decision,
      outcome: r.outcome,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }
}
