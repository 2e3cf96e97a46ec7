import { formatBytes } from '@paddock/core/client';
import { type TemplateInfo, Templates } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { timeAgo } from '../output/relative-time.js';

/** `paddock template ls`. */
export async function listTemplates(flags: { json?: boolean }, command: Command): Promise<void> {
  const templates = await Templates.list(connectionFor(command));
  if (flags.json) return printJson(templates);
  process.stdout.write(formatTable(['NAME', 'PARENT', 'SIZE', 'CREATED'], templates.map(templateRow)));
}

function templateRow(t: TemplateInfo): string[] {
  return [t.name, t.parent ?? '-', formatBytes(t.sizeBytes), timeAgo(t.createdAt)];
}
