import type { GatewayManifest } from '@paddock/core';
import type { Db } from '../store/database.js';

/** Tool name → digest of its definition, as an operator pinned it. */
export type ToolPins = Record<string, string>;

export interface GatewayServerRecord {
  /** The tenant whose server it is. */
  owner: string;
  name: string;
  command: string[];
  manifest: GatewayManifest;
  pins: ToolPins | null;
  pinnedAt: string | null;
  /** Pin the tools as first listed (the add asked for it). */
  pinOnReady: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  owner: string;
  name: string;
  command: string;
  manifest: string;
  pins: string | null;
  pinned_at: string | null;
  pin_on_ready: number;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** The gateway's servers, per tenant, in SQLite. */
export class GatewayStore {
  constructor(private readonly db: Db) {}

  /** Adds a server; false when the tenant already has one of that name. */
  insert(r: Omit<GatewayServerRecord, 'createdAt' | 'updatedAt' | 'pins' | 'pinnedAt'>): boolean {
    const now = new Date().toISOString();
    const { changes } = this.db
      .prepare(
        `INSERT INTO gateway_servers (owner, name, command, manifest, pin_on_ready, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, name) DO NOTHING`,
      )
      .run(r.owner, r.name, JSON.stringify(r.command), JSON.stringify(r.manifest), r.pinOnReady ? 1 : 0, r.createdBy, now, now);
    return changes === 1;
  }

  /** Replaces a server's command and manifest; its pins stay, so a changed tool is flagged after an update too. */
  replace(owner: string, name: string, command: string[], manifest: GatewayManifest, pinOnReady: boolean): boolean {
    const { changes } = this.db
      .prepare('UPDATE gateway_servers SET command = ?, manifest = ?, pin_on_ready = ?, updated_at = ? WHERE owner = ? AND name = ?')
      .run(JSON.stringify(command), JSON.stringify(manifest), pinOnReady ? 1 : 0, new Date().toISOString(), owner, name);
    return changes === 1;
  }

  get(owner: string, name: string): GatewayServerRecord | undefined {
    const row = this.db.prepare('SELECT * FROM gateway_servers WHERE owner = ? AND name = ?').get(owner, name) as Row | undefined;
    return row && toRecord(row);
  }

  list(owner?: string): GatewayServerRecord[] {
    const rows = (
      owner === undefined
        ? this.db.prepare('SELECT * FROM gateway_servers ORDER BY owner, name').all()
        : this.db.prepare('SELECT * FROM gateway_servers WHERE owner = ? ORDER BY name').all(owner)
    ) as Row[];
    return rows.map(toRecord);
  }

  remove(owner: string, name: string): boolean {
    return this.db.prepare('DELETE FROM gateway_servers WHERE owner = ? AND name = ?').run(owner, name).changes === 1;
  }

  setPins(owner: string, name: string, pins: ToolPins): string {
    const now = new Date().toISOString();
    this.db
      .prepare('UPDATE gateway_servers SET pins = ?, pinned_at = ?, pin_on_ready = 0 WHERE owner = ? AND name = ?')
      .run(JSON.stringify(pins), now, owner, name);
    return now;
  }
}

function toRecord(row: Row): GatewayServerRecord {
  return {
    owner: row.owner,
    name: row.name,
    command: JSON.parse(row.command) as string[],
    manifest: JSON.parse(row.manifest) as GatewayManifest,
    pins: row.pins === null ? null : (JSON.parse(row.pins) as ToolPins),
    pinnedAt: row.pinned_at,
    pinOnReady: row.pin_on_ready === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
