import type { Command } from 'commander';
import { Option } from '../program/commander.js';
import { lazyAction } from '../program/lazy-action.js';

/** audit tail, verify, export. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('read, follow, verify and export the audit log');

  audit
    .command('tail')
    .description('print the latest audit records, one a line; -f keeps following until Ctrl-C')
    .option('-f, --follow', 'keep printing new records as they land')
    .option('--since <time>', 'only records since an ISO time or a duration ago (30s, 15m, 1h, 7d)')
    .option('-n, --lines <n>', 'how many of the latest records (default: 10, or all of them with --since)')
    .action(lazyAction(async () => (await import('./tail-audit.js')).tailAudit));

  audit
    .command('verify')
    .description(
      'check the hash chain against the signed heads and the anchor log outside the database; says what it checked; exits 1 and lists the problems if it is broken (admin)',
    )
    .option('--anchor <file>', 'also check against this copy of the anchors (e.g. one shipped off the box); its newest anchor counts')
    .action(lazyAction(async () => (await import('./verify-audit.js')).verifyAudit));

  audit
    .command('export')
    .description('write every matching record, with its hashes, to stdout')
    .option('--since <time>', 'only records since an ISO time or a duration ago (30s, 15m, 1h, 7d)')
    .addOption(new Option('--format <format>', 'one JSON object a line, or one JSON array').choices(['jsonl', 'json']).default('jsonl'))
    .action(lazyAction(async () => (await import('./export-audit.js')).exportAudit));
}
