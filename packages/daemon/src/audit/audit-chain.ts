import { createHash } from 'node:crypto';
import { canonicalJson } from '@paddock/core';
// The driver's type, not the store's: the store runs this as one of its migrations.
import type Database from 'better-sqlite3';

/** prevHash of the first record. */
export const genesisHash = '0'.repeat(64);

/** The fields a record's hash covers: everything but its position, which the chain itself gives. */
export interface ChainedFields {
  ts: string;
  requestId: string | null;
  principal: string;
  tenant: string;
  action: string;
  resource: string;
  decision: string;
  outcome: string;
  durationMs: number | null;
  details: unknown;
  prevHash: string;
}

export function recordHash(fields: ChainedFields): string {
  return createHash('sha256').update(canonicalJson(fields)).digest('hex');
}

export interface AuditRow {
  seq: number;
  ts: string;
  request_id: string | null;
  principal: string;
  tenant: string;
  action: string;
  resource: string;
  decision: string;
  outcome: string;
  duration_ms: number | null;
  details: string;
  prev_hash: string | null;
  hash: string | null;
}

export function chainedFieldsOf(row: AuditRow, prevHash: string): ChainedFields {
  return {
    ts: row.ts,
    requestId: row.request_id,
    principal: row.principal,
    tenant: row.tenant,
    action: row.action,
    resource: row.resource,
    decision: row.decision,
    outcome: row.outcome,
    durationMs: row.duration_ms,
    details: JSON.parse(row.details) as unknown,
    prevHash,
  };
}

/** Gives records written before the chain existed their place in it (a one-time migration step). */
export function chainExistingAuditRecords(db: Database.Database): void {
  const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as AuditRow[];
  const update = db.prepare('UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?');
  let prev = genesisHash;
  for (const row of rows) {
    const hash = recordHash(chainedFieldsOf(row, prev));
    update.run(prev, hash, row.seq);
    prev = hash;
  }
}
