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

/**
 * The gateway's servers, per tenant, in SQLite, read once at start: the
 * daemon is the table's only writer, and every tool call looks its server
 * up, so reads come from memory.
 */
export class GatewayStore {
  private readonly records = new Map<string, GatewayServerRecord>();

  constructor(private readonly db: Db) {
    for (const row of db.prepare('SELECT * FROM gateway_servers ORDER BY owner, name').all() as Row[]) {
      const record = toRecord(row);
      this.records.set(keyOf(record.owner, record.name), record);
    }
  }

  /** Adds a server; false when the tenant already has one of that name. */
  insert(r: Omit<GatewayServerRecord, 'createdAt' | 'updatedAt' | 'pins' | 'pinnedAt'>): boolean {
    const now = new Date().toISOString();
    const { changes } = this.db
      .prepare(
        `INSERT INTO gateway_servers (owner, name, command, manifest, pin_on_ready, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, name) DO NOTHING`,
      )
      .run(r.owner, r.name, JSON.stringify(r.command), JSON.stringify(r.manifest), r.pinOnReady ? 1 : 0, r.createdBy, now, now);
    if (changes === 1) this.reload(r.owner, r.name);
    return changes === 1;
  }

  /** Replaces a server's command and manifest; its pins stay, so a changed tool is flagged after an update too. */
  replace(owner: string, name: string, command: string[], manifest: GatewayManifest, pinOnReady: boolean): boolean {
    const { changes } = this.db
      .prepare('UPDATE gateway_servers SET command = ?, manifest = ?, pin_on_ready = ?, updated_at = ? WHERE owner = ? AND name = ?')
      .run(JSON.stringify(command), JSON.stringify(manifest), pinOnReady ? 1 : 0, new Date().toISOString(), owner, name);
    this.reload(owner, name);
    return changes === 1;
  }

  get(owner: string, name: string): GatewayServerRecord | undefined {
    return this.records.get(keyOf(owner, name));
  }

  /** A tenant's servers (every tenant's when `owner` is undefined), by name. */
  list(owner?: string): GatewayServerRecord[] {
    return [...this.records.values()].filter((r) => owner === undefined || r.owner === owner).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  remove(owner: string, name: string): boolean {
    this.records.delete(keyOf(owner, name));
    return this.db.prepare('DELETE FROM gateway_servers WHERE owner = ? AND name = ?').run(owner, name).changes === 1;
  }

  setPins(owner: string, name: string, pins: ToolPins): string {
    const now = new Date().toISOString();
    this.db
      .prepare('UPDATE gateway_servers SET pins = ?, pinned_at = ?, pin_on_ready = 0 WHERE owner = ? AND name = ?')
      .run(JSON.stringify(pins), now, owner, name);
    this.reload(owner, name);
    return now;
  }

  private reload(owner: string, name: string): void {
    const row = this.db.prepare('SELECT * FROM gateway_servers WHERE owner = ? AND name = ?').get(owner, name) as Row | undefined;
    if (row) this.records.set(keyOf(owner, name), toRecord(row));
    else this.records.delete(keyOf(owner, name));
  }
}

function keyOf(owner: string, name: string): string {
  return `${owner}\0${name}`;
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
