import { parseSizeMiB, volumeSizeBounds } from '@paddock/core/client';
import { Volumes } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { checkRange } from '../options/check-range.js';
import { printJson } from '../output/print-json.js';
import { printLines } from '../output/print-lines.js';

/** `paddock volume create NAME --size 10g`: prints the name (or the volume, with --json). */
export async function createVolume(name: string, flags: { size: string; json?: boolean }, command: Command): Promise<void> {
  const sizeMiB = checkRange(parseSizeMiB(flags.size, '--size'), volumeSizeBounds, '--size', 'size');
  const volume = await Volumes.create({ ...connectionFor(command), name, sizeMiB });
  if (flags.json) return printJson(volume.info);
  printLines([volume.info.name]);
}
