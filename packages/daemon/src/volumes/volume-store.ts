import type { Db } from '../store/database.js';

export interface VolumeRecord {
  id: string;
  tenant: string;
  name: string;
  sizeMiB: number;
  createdAt: string;
}

export interface VolumeMountRecord {
  sandboxId: string;
  path: string;
  readOnly: boolean;
}

interface Row {
  id: string;
  tenant: string;
  name: string;
  size_mib: number;
  created_at: string;
}

interface MountRow {
  sandbox_id: string;
  path: string;
  read_only: number;
}

// A mount counts from before its sandbox is launched until the sandbox is gone
// from the host (a sandbox killed without waiting may still write for a moment).
const liveMounts = 'SELECT sandbox_id, path, read_only FROM volume_mounts WHERE volume_id = ? ORDER BY sandbox_id';

/** Volumes and the sandboxes they are mounted in. */
export class VolumeStore {
  constructor(private readonly db: Db) {}

  insert(v: VolumeRecord): void {
    this.db.prepare('INSERT INTO volumes (id, tenant, name, size_mib, created_at) VALUES (?, ?, ?, ?, ?)').run(v.id, v.tenant, v.name, v.sizeMiB, v.createdAt);
  }

  get(tenant: string, name: string): VolumeRecord | undefined {
    const row = this.db.prepare('SELECT * FROM volumes WHERE tenant = ? AND name = ?').get(tenant, name) as Row | undefined;
    return row && fromRow(row);
  }

  list(tenant: string): VolumeRecord[] {
    return (this.db.prepare('SELECT * FROM volumes WHERE tenant = ? ORDER BY name').all(tenant) as Row[]).map(fromRow);
  }

  all(): VolumeRecord[] {
    return (this.db.prepare('SELECT * FROM volumes').all() as Row[]).map(fromRow);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM volumes WHERE id = ?').run(id);
  }

  /** How many volumes a tenant keeps, and their total size. */
  usage(tenant: string): { volumes: number; sizeMiB: number } {
    return this.db.prepare('SELECT count(*) AS volumes, coalesce(sum(size_mib), 0) AS sizeMiB FROM volumes WHERE tenant = ?').get(tenant) as {
      volumes: number;
      sizeMiB: number;
    };
  }

  liveMounts(volumeId: string): VolumeMountRecord[] {
    return (this.db.prepare(liveMounts).all(volumeId) as MountRow[]).map((r) => ({ sandboxId: r.sandbox_id, path: r.path, readOnly: r.read_only === 1 }));
  }

  /**
   * Records a sandbox's mounts after checking, in the same transaction, that
   * none conflicts with a live one: `conflict` says which would.
   */
  addMounts(
    sandboxId: string,
    mounts: Array<{ volume: VolumeRecord; path: string; readOnly: boolean }>,
    conflict: (volume: VolumeRecord, live: VolumeMountRecord[], readOnly: boolean) => void,
  ): void {
    this.db.transaction(() => {
      const add = this.db.prepare('INSERT INTO volume_mounts (volume_id, sandbox_id, path, read_only) VALUES (?, ?, ?, ?)');
      for (const m of mounts) {
        conflict(m.volume, this.liveMounts(m.volume.id), m.readOnly);
        add.run(m.volume.id, sandboxId, m.path, m.readOnly ? 1 : 0);
      }
    })();
  }

  removeMounts(sandboxId: string): void {
    this.db.prepare('DELETE FROM volume_mounts WHERE sandbox_id = ?').run(sandboxId);
  }

  /**
   * Mounts of sandboxes that ended or were never recorded (a create the daemon died in); run only when none is in
   * flight. A sandbox whose teardown is still owed keeps its mounts: it may still be on the host, writing.
   */
  pruneMounts(): number {
    return this.db.prepare("DELETE FROM volume_mounts WHERE sandbox_id NOT IN (SELECT id FROM sandboxes WHERE state != 'killed' OR teardown_pending = 1)").run()
      .changes;
  }
}

function fromRow(r: Row): VolumeRecord {
  return { id: r.id, tenant: r.tenant, name: r.name, sizeMiB: r.size_mib, createdAt: r.created_at };
}
