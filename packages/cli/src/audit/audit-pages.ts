import type { Connection } from '@paddock/sdk';
import { Audit, type AuditEntry } from '@paddock/sdk';

// The daemon allows up to 10 000 a page; 1000 keeps each response small while a long export still takes few requests.
const pageSize = 1000;

/**
 * Every record from `since`, one page at a time: each page starts after the
 * last seq of the previous one, and a short page means the end was reached.
 */
export async function* auditPages(conn: Connection, since: string | undefined): AsyncGenerator<AuditEntry[]> {
  let after: number | undefined;
  for (;;) {
    const records = await Audit.list({ ...conn, after, since, limit: pageSize });
    if (records.length > 0) yield records;
    const last = records.at(-1);
    if (records.length < pageSize || !last) return;
    after = last.seq;
  }
}
