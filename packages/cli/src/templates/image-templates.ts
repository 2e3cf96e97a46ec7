import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { formatBytes } from '@paddock/core/client';
import { type TemplateInfo, Templates } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError } from '../errors/cli-error.js';
import { withBuildProgress } from './build-progress.js';

/** `paddock template build NAME --from-image REF`: the daemon pulls the image; progress on stderr, the name on stdout. */
export async function pullTemplate(name: string, image: string, command: Command): Promise<void> {
  const made = await withBuildProgress(name, (onEvent) => Templates.build({ ...connectionFor(command), name, fromImage: image, onEvent }));
  done(made);
}

/** `paddock template import FILE --name NAME`: streams the archive to the daemon, which unpacks it. */
export async function importTemplate(file: string, flags: { name: string }, command: Command): Promise<void> {
  const size = statSync(file, { throwIfNoEntry: false });
  if (!size?.isFile()) throw new CliError(`${file}: no such file`);
  const archive = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
  const made = await withBuildProgress(flags.name, (onEvent) => {
    onEvent({ type: 'step', index: 1, total: 2, text: `uploading ${file} (${formatBytes(size.size)})` });
    return Templates.import({ ...connectionFor(command), name: flags.name, archive, onEvent });
  });
  done(made);
}

function done(made: TemplateInfo): void {
  if (process.stderr.isTTY) process.stderr.write(`made ${made.name} (${formatBytes(made.sizeBytes)}, ${made.layers.length} layers)\n`);
  process.stdout.write(`${made.name}\n`);
}
