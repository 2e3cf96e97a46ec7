import { EventEmitter } from 'node:events';
import type { AuditEntry } from '@paddock/core';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/database.js';
import { type AuditRow, genesisHash, recordHash } from './audit-chain.js';

export interface AuditRecord {
  requestId: string | null;
  principal: string;
  tenant: string;
  action: string;
  resource: string;
  decision: 'allow' | 'deny' | 'ask';
  /** ok, or the error code the action ended with */
  outcome: string;
  durationMs?: number;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  afterSeq?: number;
  /** ISO time: only records at or after it. */
  sinceTs?: string;
  /** Only this tenant's records; undefined means all. */
  tenant?: string;
  limit?: number;
}

/**
 * The audit seam: every API action lands here once, with its decision and
 * outcome. Append-only (the table refuses UPDATE and DELETE), and each record
 * holds the SHA-256 of the one before, so an edit, a deletion or a reordering
 * breaks the chain (AuditVerifier finds where).
 */
export interface AuditLog {
  append(record: AuditRecord): AuditEntry;
  list(query?: AuditQuery): AuditEntry[];
  /** Calls back with each record appended from now on; returns the unsubscribe function. */
  subscribe(listener: (entry: AuditEntry) => void): () => void;
}

export class SqliteAuditLog implements AuditLog {
  private readonly insert: Statement;
  private readonly events = new EventEmitter();
  private lastHash: string;

  constructor(private readonly db: Db) {
    // Every API call appends: prepare once, not per record.
    this.insert = db.prepare(
      `INSERT INTO audit (ts, request_id, principal, tenant, action, resource, decision, outcome, duration_ms, details, prev_hash, hash)
       VALUES (@ts, @requestId, @principal, @tenant, @action, @resource, @decision, @outcome, @durationMs, @details, @prevHash, @hash)`,
    );
    const last = db.prepare('SELECT hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { hash: string } | undefined;
    this.lastHash = last?.hash ?? genesisHash;
    this.events.setMaxListeners(0);
  }

  append(r: AuditRecord): AuditEntry {
    const fields = {
      ts: new Date().toISOString(),
      requestId: r.requestId,
      principal: r.principal,
      tenant: r.tenant,
      action: r.action,
      resource: r.resource,
      decision: r.decision,
      outcome: r.outcome,
      durationMs: r.durationMs === undefined ? null : Math.round(r.durationMs * 1000) / 1000,
      details: r.details,
      prevHash: this.lastHash,
    };
    // JSON round trip: the hash covers exactly what a reader will parse back.
    const details = JSON.stringify(fields.details);
    const hashed = { ...fields, details: JSON.parse(details) as Record<string, unknown> };
    const hash = recordHash(hashed);
    const { lastInsertRowid } = this.insert.run({ ...fields, details, hash });
    this.lastHash = hash;
    const entry: AuditEntry = { seq: Number(lastInsertRowid), ...hashed, hash };
    this.events.emit('append', entry);
    return entry;
  }

  list(query: AuditQuery = {}): AuditEntry[] {
    const where = ['seq > @after'];
    if (query.sinceTs) where.push('ts >= @since');
    if (query.tenant) where.push('tenant = @tenant');
    const rows = this.db
      .prepare(`SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY seq LIMIT @limit`)
      .all({ after: query.afterSeq ?? 0, since: query.sinceTs, tenant: query.tenant, limit: query.limit ?? 1000 }) as AuditRow[];
    return rows.map(toEntry);
  }

  subscribe(listener: (entry: AuditEntry) => void): () => void {
    this.events.on('append', listener);
    return () => this.events.off('append', listener);
  }
}

export function toEntry(r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    ts: r.ts,
    requestId: r.request_id,
    principal: r.principal,
    tenant: r.tenant,
    action: r.action,
    resource: r.resource,
    decision: r.decision as AuditEntry['decision'],
    outcome: r.outcome,
    durationMs: r.duration_ms,
    details: JSON.parse(r.details) as Record<string, unknown>,
    prevHash: r.prev_hash ?? '',
    hash: r.hash ?? '',
  };
}
