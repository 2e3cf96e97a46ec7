import { join } from 'node:path';
import Database from 'better-sqlite3';
import { vi } from 'vitest';

/**
 * Waits until the daemon has signed (and so anchored) a head covering every
 * audit record written so far: a test that tampers with the log or cuts it
 * back needs that head to exist, and a fixed wait would only guess.
 */
export async function untilHeadSigned(stateDir: string, timeoutMs = 15_000): Promise<void> {
  const db = new Database(join(stateDir, 'paddock.db'), { readonly: true, fileMustExist: true });
  try {
    const newest = (db.prepare('SELECT max(seq) AS seq FROM audit').get() as { seq: number | null }).seq ?? 0;
    await vi.waitFor(
      () => {
        const signed = (db.prepare('SELECT max(seq) AS seq FROM audit_heads').get() as { seq: number | null }).seq ?? 0;
        if (signed < newest) throw new Error(`the audit head is signed up to record ${signed}, not yet ${newest}`);
      },
      { timeout: timeoutMs, interval: 25 },
    );
  } finally {
    db.close();
  }
}
