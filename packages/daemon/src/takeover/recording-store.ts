import type { Recording } from '@paddock/core';
import type { Db } from '../store/database.js';

interface Row {
  session_id: string;
  by: string;
  started_at: string;
  ended_at: string | null;
  bytes: number;
  sha256: string | null;
}

/** Takeover recordings: which sandbox, who, when, and the size and digest of each cast once it ended. */
export class RecordingStore {
  constructor(private readonly db: Db) {}

  start(r: { sessionId: string; sandboxId: string; tenant: string; by: string; startedAt: string }): void {
    this.db
      .prepare('INSERT INTO recordings (session_id, sandbox_id, tenant, by, started_at) VALUES (?, ?, ?, ?, ?)')
      .run(r.sessionId, r.sandboxId, r.tenant, r.by, r.startedAt);
  }

  end(sessionId: string, endedAt: string, bytes: number, sha256: string): void {
    this.db.prepare('UPDATE recordings SET ended_at = ?, bytes = ?, sha256 = ? WHERE session_id = ?').run(endedAt, bytes, sha256, sessionId);
  }

  /** Recordings a daemon that stopped abruptly left open, with where their sandbox was. */
  open(): Array<{ sessionId: string; sandboxId: string; tenant: string; by: string }> {
    const rows = this.db.prepare('SELECT session_id, sandbox_id, tenant, by FROM recordings WHERE ended_at IS NULL').all() as Array<{
      session_id: string;
      sandbox_id: string;
      tenant: string;
      by: string;
    }>;
    return rows.map((r) => ({ sessionId: r.session_id, sandboxId: r.sandbox_id, tenant: r.tenant, by: r.by }));
  }

  list(sandboxId: string): Recording[] {
    const rows = this.db.prepare('SELECT * FROM recordings WHERE sandbox_id = ? ORDER BY started_at').all(sandboxId) as Row[];
    return rows.map(toRecording);
  }

  get(sandboxId: string, sessionId: string): Recording | undefined {
    const row = this.db.prepare('SELECT * FROM recordings WHERE sandbox_id = ? AND session_id = ?').get(sandboxId, sessionId) as Row | undefined;
    return row && toRecording(row);
  }
}

function toRecording(r: Row): Recording {
  return { sessionId: r.session_id, by: r.by, startedAt: r.started_at, endedAt: r.ended_at, bytes: r.bytes, sha256: r.sha256 };
}
