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
  beforeSeq?: number;
  /** ISO time: only records at or after it. */
  sinceTs?: string;
  /** ISO time: only records before it. */
  untilTs?: string;
  /** Only this tenant's records; undefined means all. */
  tenant?: string;
  /** An action, or a prefix of actions ending in `*`. */
  action?: string;
  decision?: AuditRecord['decision'];
  /** An outcome, or `failed` for all but ok. */
  outcome?: string;
  principal?: string;
  /** Records whose resource is this sandbox. */
  sandbox?: string;
  /** Text anywhere in the principal, action, resource, outcome or details, any case. */
  text?: string;
  /** Newest first (desc) or oldest first (asc, the default). */
  order?: 'asc' | 'desc';
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
    const { where, params } = auditWhere(query);
    const rows = this.db
      .prepare(`SELECT * FROM audit WHERE ${where} ORDER BY seq ${query.order === 'desc' ? 'DESC' : 'ASC'} LIMIT @limit`)
      .all({ ...params, limit: query.limit ?? 1000 }) as AuditRow[];
    return rows.map(toEntry);
  }

  subscribe(listener: (entry: AuditEntry) => void): () => void {
    this.events.on('append', listener);
    return () => this.events.off('append', listener);
  }
}

/** The SQL condition of a query, its values bound as parameters (the text is matched with LIKE, its wildcards escaped). */
function auditWhere(query: AuditQuery): { where: string; params: Record<string, string | number> } {
  const where = ['seq > @after'];
  const params: Record<string, string | number> = { after: query.afterSeq ?? 0 };
  const add = (condition: string, name: string, value: string | number | undefined) => {
    if (value === undefined || value === '') return;
    where.push(condition);
    params[name] = value;
  };
  add('seq < @before', 'before', query.beforeSeq);
  add('ts >= @since', 'since', query.sinceTs);
  add('ts < @until', 'until', query.untilTs);
  add('tenant = @tenant', 'tenant', query.tenant);
  if (query.action?.endsWith('*')) add("action LIKE @action ESCAPE '\\'", 'action', `${likeEscaped(query.action.slice(0, -1))}%`);
  else add('action = @action', 'action', query.action);
  add('decision = @decision', 'decision', query.decision);
  if (query.outcome === 'failed') where.push("outcome != 'ok'");
  else add('outcome = @outcome', 'outcome', query.outcome);
  add('principal = @principal', 'principal', query.principal);
  add('resource = @resource', 'resource', query.sandbox === undefined ? undefined : `sandbox:${query.sandbox}`);
  add(
    "lower(principal || ' ' || action || ' ' || resource || ' ' || outcome || ' ' || details) LIKE @text ESCAPE '\\'",
    'text',
    query.text?.trim() ? `%${likeEscaped(query.text.trim().toLowerCase())}%` : undefined,
  );
  return { where: where.join(' AND '), params };
}

function likeEscaped(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Whether a record matches a query's filters (seq, time and order aside): what a followed stream sends on. */
export function auditMatches(e: AuditEntry, query: AuditQuery): boolean {
  const text = query.text?.trim().toLowerCase();
  return (
    (!query.tenant || e.tenant === query.tenant) &&
    (!query.action || (query.action.endsWith('*') ? e.action.startsWith(query.action.slice(0, -1)) : e.action === query.action)) &&
    (!query.decision || e.decision === query.decision) &&
    (!query.outcome || (query.outcome === 'failed' ? e.outcome !== 'ok' : e.outcome === query.outcome)) &&
    (!query.principal || e.principal === query.principal) &&
    (query.sandbox === undefined || e.resource === `sandbox:${query.sandbox}`) &&
    (!text || `${e.principal} ${e.action} ${e.resource} ${e.outcome} ${JSON.stringify(e.details)}`.toLowerCase().includes(text))
  );
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
