import type { Connection } from '@paddock/sdk';
import { Audit, type AuditEntry } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { parsePositiveNumber } from '../options/parse-number.js';
import { printLines } from '../output/print-lines.js';
import { auditPages } from './audit-pages.js';
import { formatAuditLine } from './format-audit-line.js';

interface TailFlags {
  follow?: boolean;
  since?: string;
  lines?: string;
}

const defaultLines = 10;

/** `paddock audit tail`: the latest records, then with -f each new one until Ctrl-C. */
export async function tailAudit(flags: TailFlags, command: Command): Promise<void> {
  const count = flags.lines === undefined ? (flags.since ? Number.POSITIVE_INFINITY : defaultLines) : parsePositiveNumber(flags.lines, '-n', 'integer');
  const conn = connectionFor(command);
  const { latest, lastSeq } = await latestRecords(conn, flags.since, count);
  printLines(latest.map(formatAuditLine));
  if (!flags.follow) return;
  // Following from the last seq read: nothing that landed while the pages were read is lost or printed twice.
  const range = lastSeq === undefined ? { since: flags.since } : { after: lastSeq };
  for await (const record of Audit.follow({ ...conn, ...range })) printLines([formatAuditLine(record)]);
}

/**
 * The API pages from the oldest record on, so the latest `count` are found by
 * reading every page of the range and keeping only the end of it.
 */
async function latestRecords(conn: Connection, since: string | undefined, count: number): Promise<{ latest: AuditEntry[]; lastSeq?: number }> {
  let latest: AuditEntry[] = [];
  let lastSeq: number | undefined;
  for await (const page of auditPages(conn, since)) {
    latest = [...latest, ...page].slice(-count);
    lastSeq = page.at(-1)?.seq;
  }
  return { latest, lastSeq };
}
