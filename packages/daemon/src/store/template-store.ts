import type { TemplateImage, TemplateInfo } from '@paddock/core';
import type { Db } from './database.js';

/** A template as the daemon keeps it: the API view plus the host paths of its layers (top first). */
export interface TemplateRecord extends Omit<TemplateInfo, 'layers' | 'kind'> {
  layerDirs: string[];
  /** fork: the hidden layer of one forked sandbox, removed with it. */
  kind: TemplateInfo['kind'] | 'fork';
  /** The tenant that made a snapshot or fork (null for base and builds). */
  owner: string | null;
}

interface Row {
  name: string;
  parent: string | null;
  layers: string;
  env: string;
  workdir: string;
  user: string;
  created_at: string;
  size_bytes: number;
  kind: TemplateRecord['kind'];
  owner: string | null;
  image: string | null;
  config: string | null;
}

export class TemplateStore {
  constructor(private readonly db: Db) {}

  put(t: TemplateRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO templates (name, parent, layers, env, workdir, user, created_at, size_bytes, kind, owner, image, config)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        t.name,
        t.parent,
        JSON.stringify(t.layerDirs),
        JSON.stringify(t.env),
        t.workdir,
        t.user,
        t.createdAt,
        t.sizeBytes,
        t.kind,
        t.owner,
        t.image ? JSON.stringify(t.image) : null,
        t.config ? JSON.stringify(t.config) : null,
      );
  }

  get(name: string): TemplateRecord | undefined {
    const row = this.db.prepare('SELECT * FROM templates WHERE name = ?').get(name) as Row | undefined;
    return row && fromRow(row);
  }

  list(): TemplateRecord[] {
    return (this.db.prepare('SELECT * FROM templates ORDER BY name').all() as Row[]).map(fromRow);
  }

  /** How many snapshots a tenant keeps (its quota counts them). */
  snapshotsOf(owner: string): number {
    return (this.db.prepare("SELECT count(*) AS n FROM templates WHERE owner = ? AND kind = 'snapshot'").get(owner) as { n: number }).n;
  }

  /** Total size of a tenant's snapshots, in bytes. */
  snapshotBytesOf(owner: string): number {
    return (this.db.prepare("SELECT coalesce(sum(size_bytes), 0) AS n FROM templates WHERE owner = ? AND kind = 'snapshot'").get(owner) as { n: number }).n;
  }

  children(name: string): string[] {
    return (this.db.prepare('SELECT name FROM templates WHERE parent = ?').all(name) as Array<{ name: string }>).map((r) => r.name);
  }

  remove(name: string): void {
    this.db.prepare('DELETE FROM templates WHERE name = ?').run(name);
  }
}

function fromRow(row: Row): TemplateRecord {
  return {
    name: row.name,
    parent: row.parent,
    layerDirs: JSON.parse(row.layers) as string[],
    env: JSON.parse(row.env) as Record<string, string>,
    workdir: row.workdir,
    user: row.user,
    createdAt: row.created_at,
    sizeBytes: row.size_bytes,
    kind: row.kind,
    owner: row.owner,
    ...(row.image ? { image: JSON.parse(row.image) as TemplateImage } : {}),
    ...(row.config ? { config: JSON.parse(row.config) as TemplateRecord['config'] } : {}),
  };
}

/**
 * Snapshots and forks hold a tenant's files: only that tenant sees or uses
 * them. Base and built templates are shared.
 */
export function visibleTo(template: TemplateRecord | undefined, tenant: string): template is TemplateRecord {
  return !!template && (template.owner === null || template.owner === tenant);
}
