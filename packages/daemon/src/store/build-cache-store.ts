import type { Db } from './database.js';

/** A cached build step: the layer it made (first) on the layers it ran on. */
export interface BuildCacheEntry {
  key: string;
  layerDirs: string[];
  sizeBytes: number;
  createdAt: string;
  usedAt: string;
}

interface Row {
  key: string;
  layers: string;
  size_bytes: number;
  created_at: string;
  used_at: string;
}

/** The build cache's index: which layer each step key made. The layers themselves live in the layers folder. */
export class BuildCacheStore {
  constructor(private readonly db: Db) {}

  get(key: string): BuildCacheEntry | undefined {
    const row = this.db.prepare('SELECT * FROM build_cache WHERE key = ?').get(key) as Row | undefined;
    if (!row) return undefined;
    this.db.prepare('UPDATE build_cache SET used_at = ? WHERE key = ?').run(new Date().toISOString(), key);
    return fromRow(row);
  }

  /** False when another build cached the same key first (the caller drops its own copy). */
  put(entry: Omit<BuildCacheEntry, 'createdAt' | 'usedAt'>): boolean {
    const now = new Date().toISOString();
    const result = this.db
      .prepare('INSERT OR IGNORE INTO build_cache (key, layers, size_bytes, created_at, used_at) VALUES (?, ?, ?, ?, ?)')
      .run(entry.key, JSON.stringify(entry.layerDirs), entry.sizeBytes, now, now);
    return result.changes === 1;
  }

  /** The size of the layer a cached step made (its own layer, the first of its stack). */
  sizeOf(layerDir: string): number | undefined {
    const row = this.db.prepare("SELECT size_bytes FROM build_cache WHERE json_extract(layers, '$[0]') = ?").get(layerDir) as
      | { size_bytes: number }
      | undefined;
    return row?.size_bytes;
  }

  list(): BuildCacheEntry[] {
    return (this.db.prepare('SELECT * FROM build_cache ORDER BY created_at').all() as Row[]).map(fromRow);
  }

  remove(key: string): void {
    this.db.prepare('DELETE FROM build_cache WHERE key = ?').run(key);
  }
}

function fromRow(row: Row): BuildCacheEntry {
  return { key: row.key, layerDirs: JSON.parse(row.layers) as string[], sizeBytes: row.size_bytes, createdAt: row.created_at, usedAt: row.used_at };
}
