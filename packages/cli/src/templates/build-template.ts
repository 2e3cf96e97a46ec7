import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { formatBytes } from '@paddock/core/client';
import { Templates } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError } from '../errors/cli-error.js';
import { withBuildProgress } from './build-progress.js';
import { packContext } from './pack-context.js';

export interface BuildFlags {
  file?: string;
  from?: string;
  fromImage?: string;
  buildArg?: string[];
  allowDomain?: string[];
  secret?: string[];
  /** commander's --no-cache: false when given. */
  cache?: boolean;
}

/** `paddock template build`: builds from a Dockerfile or Paddockfile with progress on stderr; prints the name. */
export async function buildTemplate(name: string, contextArg: string | undefined, flags: BuildFlags, command: Command): Promise<void> {
  if (flags.fromImage !== undefined) return (await import('./image-templates.js')).pullTemplate(name, flags.fromImage, command);
  const { file, contextDir } = locateBuild(flags.file, contextArg);
  const text = readFileSync(file, 'utf8');
  // Only COPY and ADD read the context: skip packing (and sending) it otherwise.
  const context = /^\s*(COPY|ADD)\s/im.test(text) ? packContext(contextDir) : undefined;
  const buildArgs: Record<string, string> = {};
  for (const pair of flags.buildArg ?? []) {
    const eq = pair.indexOf('=');
    // Docker's --build-arg NAME takes the value from the environment.
    const value = eq < 0 ? process.env[pair] : pair.slice(eq + 1);
    if (value !== undefined) buildArgs[eq < 0 ? pair : pair.slice(0, eq)] = value;
  }
  const asPaddockfile = basename(file).toLowerCase().startsWith('paddockfile');
  const built = await withBuildProgress(name, (onEvent) =>
    Templates.build({
      ...connectionFor(command),
      name,
      from: flags.from,
      ...(asPaddockfile ? { paddockfile: text } : { dockerfile: text }),
      context,
      buildArgs,
      allow: flags.allowDomain,
      secrets: flags.secret,
      noCache: flags.cache === false,
      onEvent,
    }),
  );
  if (process.stderr.isTTY) process.stderr.write(`built ${built.name} (${formatBytes(built.sizeBytes)})\n`);
  process.stdout.write(`${built.name}\n`);
}

/** Docker's defaults: Paddockfile, else Dockerfile, in CONTEXT (or .); the context defaults to the file's folder. */
function locateBuild(fileFlag: string | undefined, contextArg: string | undefined): { file: string; contextDir: string } {
  const folder = contextArg ?? '.';
  const found = ['Paddockfile', 'Dockerfile'].map((n) => join(folder, n)).find((f) => existsSync(f));
  const file = resolve(fileFlag ?? found ?? join(folder, 'Paddockfile'));
  const contextDir = resolve(contextArg ?? dirname(file));
  if (!existsSync(file)) throw new CliError(`${fileFlag ?? file}: no such file (a Paddockfile or Dockerfile)`);
  if (!statSync(contextDir, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`${contextDir}: no such folder`);
  return { file, contextDir };
}
