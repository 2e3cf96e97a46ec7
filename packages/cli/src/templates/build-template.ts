import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { formatBytes } from '@paddock/core/client';
import { type TemplateInfo, Templates } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError } from '../errors/cli-error.js';
import { onCleanup } from '../lifecycle/cleanup.js';
import { buildProgress } from './build-progress.js';
import { packContext } from './pack-context.js';

export interface BuildFlags {
  file?: string;
  from?: string;
  fromImage?: string;
}

/** `paddock template build`: builds from a Paddockfile with progress on stderr; prints the name. */
export async function buildTemplate(name: string, contextArg: string | undefined, flags: BuildFlags, command: Command): Promise<void> {
  if (flags.fromImage !== undefined) return (await import('./image-templates.js')).pullTemplate(name, flags.fromImage, command);
  const { file, contextDir } = locateBuild(flags.file, contextArg);
  const paddockfile = readFileSync(file, 'utf8');
  // Only COPY reads the context: skip packing (and sending) it otherwise.
  const context = /^\s*COPY\s/im.test(paddockfile) ? packContext(contextDir) : undefined;
  const progress = buildProgress(name);
  const unregister = onCleanup(() => progress.close());
  let built: TemplateInfo;
  try {
    built = await Templates.build({ ...connectionFor(command), name, from: flags.from, paddockfile, context, onEvent: progress.onEvent });
  } finally {
    unregister();
    progress.close();
  }
  if (process.stderr.isTTY) process.stderr.write(`built ${built.name} (${formatBytes(built.sizeBytes)})\n`);
  process.stdout.write(`${built.name}\n`);
}

/** Docker's defaults: ./Paddockfile, or CONTEXT/Paddockfile; the context defaults to the Paddockfile's folder. */
function locateBuild(fileFlag: string | undefined, contextArg: string | undefined): { file: string; contextDir: string } {
  const file = resolve(fileFlag ?? join(contextArg ?? '.', 'Paddockfile'));
  const contextDir = resolve(contextArg ?? dirname(file));
  if (!existsSync(file)) throw new CliError(`${fileFlag ?? file}: no such Paddockfile`);
  if (!statSync(contextDir, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`${contextDir}: no such folder`);
  return { file, contextDir };
}
