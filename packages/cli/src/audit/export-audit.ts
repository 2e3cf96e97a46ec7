import type { AuditEntry } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { printJson } from '../output/print-json.js';
import { auditPages } from './audit-pages.js';

interface ExportFlags {
  since?: string;
  format: 'jsonl' | 'json';
}

/** `paddock audit export`: every matching record with its hashes, so the chain can be checked elsewhere. */
export async function exportAudit(flags: ExportFlags, command: Command): Promise<void> {
  const pages = auditPages(connectionFor(command), flags.since);
  if (flags.format === 'json') {
    const records: AuditEntry[] = [];
    for await (const page of pages) records.push(...page);
    return printJson(records);
  }
  // JSON lines go out a page at a time: a large export never sits whole in memory.
  for await (const page of pages) process.stdout.write(`${page.map((r) => JSON.stringify(r)).join('\n')}\n`);
}
