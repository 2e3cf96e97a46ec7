import type { Principal } from '../auth/token-auth.js';
import type { Db } from '../store/database.js';

export interface PortLinkRecord {
  id: string;
  sandboxId: string;
  tenant: string;
  port: number;
  /** The token that made it; policy decides a link's connections as that token. */
  creator: Principal;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

interface Row {
  id: string;
  sandbox_id: string;
  tenant: string;
  port: number;
  creator: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

/** Public links to ports, found by the digest of their secret. */
export class PortLinkStore {
  constructor(private readonly db: Db) {}

  insert(link: PortLinkRecord, digest: string): void {
    this.db
      .prepare('INSERT INTO port_links (id, digest, sandbox_id, tenant, port, created_by, creator, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(link.id, digest, link.sandboxId, link.tenant, link.port, link.creator.id, JSON.stringify(link.creator), link.createdAt, link.expiresAt);
  }

  byDigest(digest: string): PortLinkRecord | undefined {
    const row = this.db.prepare('SELECT * FROM port_links WHERE digest = ?').get(digest) as Row | undefined;
    return row && fromRow(row);
  }

  /** The sandbox's links that still work at `now`. */
  live(sandboxId: string, now: string): PortLinkRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM port_links WHERE sandbox_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at, id')
      .all(sandboxId, now) as Row[];
    return rows.map(fromRow);
  }

  /** Whether a link of the sandbox by that id was revoked now (false: no such live link). */
  revoke(sandboxId: string, id: string, now: string): boolean {
    return this.db.prepare('UPDATE port_links SET revoked_at = ? WHERE sandbox_id = ? AND id = ? AND revoked_at IS NULL').run(now, sandboxId, id).changes > 0;
  }

  /** A sandbox that ended takes its links with it. */
  removeSandbox(sandboxId: string): void {
    this.db.prepare('DELETE FROM port_links WHERE sandbox_id = ?').run(sandboxId);
  }
}

function fromRow(row: Row): PortLinkRecord {
  return {
    id: row.id,
    sandboxId: row.sandbox_id,
    tenant: row.tenant,
    port: row.port,
    creator: JSON.parse(row.creator) as Principal,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}
