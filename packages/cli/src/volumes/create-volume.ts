import { parseSizeMiB, volumeSizeBounds } from '@paddock/core/client';
import { Volumes } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { nameFlags } from '../errors/name-flags.js';
import { checkRange } from '../options/check-range.js';
import { printJson } from '../output/print-json.js';
import { printLines } from '../output/print-lines.js';

/** `paddock volume create NAME --size 10g [--from-template T:/path]`: prints the name (or the volume, with --json). */
export async function createVolume(name: string, flags: { size: string; fromTemplate?: string; json?: boolean }, command: Command): Promise<void> {
  const sizeMiB = checkRange(parseSizeMiB(flags.size, '--size'), volumeSizeBounds, '--size', 'size');
  const from = flags.fromTemplate === undefined ? undefined : parseTemplateFolder(flags.fromTemplate);
  const volume = await Volumes.create({ ...connectionFor(command), name, sizeMiB, from }).catch((err: unknown) => {
    throw nameFlags(err, { name: '<name>', sizeMiB: '--size', from: '--from-template' });
  });
  if (flags.json) return printJson(volume.info);
  printLines([volume.info.name]);
}

/** `py-ds:/work`: a template and an absolute folder in it. */
function parseTemplateFolder(text: string): { template: string; path: string } {
  const colon = text.indexOf(':');
  if (colon <= 0 || text[colon + 1] !== '/') throw new UsageError(`--from-template: expected TEMPLATE:/folder, e.g. py-ds:/work, got "${text}"`);
  return { template: text.slice(0, colon), path: text.slice(colon + 1) };
}
