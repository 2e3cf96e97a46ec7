import type { SandboxInfo } from '@paddock/sdk';
import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { parsePairs } from '../options/parse-pairs.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { printLines } from '../output/print-lines.js';
import { timeAgo, timeUntil } from '../output/relative-time.js';

export interface ListFlags {
  all?: boolean;
  state?: 'running' | 'paused' | 'killed' | 'all';
  label?: string[];
  json?: boolean;
  quiet?: boolean;
}

/** `paddock ls`: running and paused sandboxes unless --all or --state say otherwise. */
export async function listSandboxes(flags: ListFlags, command: Command): Promise<void> {
  const metadata = parsePairs(flags.label, '--label');
  const state = flags.state ?? (flags.all ? 'all' : undefined);
  const sandboxes = await Sandbox.list({ ...connectionFor(command), state, metadata });
  if (flags.json) printJson(sandboxes);
  else if (flags.quiet) printLines(sandboxes.map((s) => s.id));
  else process.stdout.write(formatTable(['ID', 'TEMPLATE', 'TIER', 'STATE', 'CREATED', 'EXPIRES', 'LABELS'], sandboxes.map(sandboxRow)));
}

function sandboxRow(s: SandboxInfo): string[] {
  const ended = s.state === 'killed';
  return [
    s.id,
    s.template,
    s.tier,
    ended && s.endReason && s.endReason !== 'killed' ? `killed (${s.endReason})` : s.state,
    timeAgo(s.createdAt),
    ended ? '-' : timeUntil(s.expiresAt),
    Object.entries(s.metadata)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  ];
}
