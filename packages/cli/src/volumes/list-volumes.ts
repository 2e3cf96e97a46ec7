import { formatBytes } from '@paddock/core/client';
import { type VolumeInfo, Volumes } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { timeAgo } from '../output/relative-time.js';

/** `paddock volume ls`. */
export async function listVolumes(flags: { json?: boolean }, command: Command): Promise<void> {
  const volumes = await Volumes.list(connectionFor(command));
  if (flags.json) return printJson(volumes);
  process.stdout.write(formatTable(['NAME', 'SIZE', 'USED', 'MOUNTED IN', 'CREATED'], volumes.map(volumeRow)));
}

function volumeRow(v: VolumeInfo): string[] {
  const mounts = v.mounts.map((m) => `${m.sandbox}${m.readOnly ? ' (ro)' : ''}`).join(', ');
  return [v.name, formatBytes(v.sizeMiB * 1024 * 1024), v.usedBytes === null ? '-' : formatBytes(v.usedBytes), mounts || '-', timeAgo(v.createdAt)];
}
