import type { Db } from '../store/database.js';

export interface SessionRow {
  digest: string;
  tokenDigest: string;
  csrfToken: string;
  expiresAt: string;
}

/** Dashboard sessions and one-time login codes: rows keyed by the SHA-256 of their secret, never the secret. */
export class SessionStore {
  constructor(private readonly db: Db) {}

  insert(row: SessionRow, createdAt: string): void {
    this.db
      .prepare('INSERT INTO sessions (digest, token_digest, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(row.digest, row.tokenDigest, row.csrfToken, createdAt, row.expiresAt);
  }

  get(digest: string): SessionRow | undefined {
    const row = this.db.prepare('SELECT digest, token_digest, csrf_token, expires_at FROM sessions WHERE digest = ?').get(digest) as
      | { digest: string; token_digest: string; csrf_token: string; expires_at: string }
      | undefined;
    return row && { digest: row.digest, tokenDigest: row.token_digest, csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  delete(digest: string): void {
    this.db.prepare('DELETE FROM sessions WHERE digest = ?').run(digest);
  }

  /** Drops sessions and codes past their end (ISO strings compare in time order). */
  sweep(now: string): void {
    this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
    this.db.prepare('DELETE FROM login_codes WHERE expires_at <= ?').run(now);
  }

  insertCode(digest: string, tokenDigest: string, createdAt: string, expiresAt: string): void {
    this.db
      .prepare('INSERT INTO login_codes (digest, token_digest, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(digest, tokenDigest, createdAt, expiresAt);
  }

  /**
   * Marks a code used and returns its token's digest, if it was unused and
   * unexpired: one UPDATE, so two requests racing with the same code cannot both win.
   */
  useCode(digest: string, now: string): string | undefined {
    const row = this.db
      .prepare('UPDATE login_codes SET used_at = ? WHERE digest = ? AND used_at IS NULL AND expires_at > ? RETURNING token_digest')
      .get(now, digest, now) as { token_digest: string } | undefined;
    return row?.token_digest;
  }
}
