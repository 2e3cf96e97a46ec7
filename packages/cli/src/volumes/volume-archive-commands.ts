import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { formatBytes, printable } from '@paddock/core/client';
import { Volumes } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError } from '../errors/cli-error.js';
import { writeToStdout } from '../files/write-to-stdout.js';

/** `paddock volume export NAME > v.tar`: the volume as a tar stream on stdout, never onto a terminal. */
export async function exportVolume(name: string, _flags: object, command: Command): Promise<void> {
  if (process.stdout.isTTY) throw new CliError('volume export writes a tar stream: redirect it, e.g. paddock volume export repo > repo.tar', 2);
  const { files } = await Volumes.get(name, connectionFor(command));
  const tar = Readable.fromWeb((await files.downloadArchive()) as NodeReadableStream<Uint8Array>);
  let sent = 0;
  tar.on('data', (chunk: Buffer) => {
    sent += chunk.length;
    progress(`exported ${formatBytes(sent)}`);
  });
  await writeToStdout(tar);
  progress(`exported ${formatBytes(sent)}\n`);
}

/** `paddock volume import NAME FILE` (or - for stdin): files and folders only; says what it left out. */
export async function importVolume(name: string, file: string, _flags: object, command: Command): Promise<void> {
  const { files } = await Volumes.get(name, connectionFor(command));
  const source = file === '-' ? process.stdin : createReadStream(file);
  let read = 0;
  source.on('data', (chunk: Buffer | string) => {
    read += chunk.length;
    progress(`imported ${formatBytes(read)}`);
  });
  const opened = new Promise<void>((resolve, reject) => {
    if (file === '-') return resolve();
    source.once('open', () => resolve());
    source.once('error', () => reject(new CliError(`${file}: cannot be read`)));
  });
  await opened;
  const result = await files.uploadArchive(Readable.toWeb(source) as ReadableStream<Uint8Array>);
  progress(`imported ${formatBytes(read)}\n`);
  for (const path of result.skipped) process.stderr.write(`paddock: ${printable(path)}: left out (only files and folders are imported)\n`);
  process.stderr.write(`${result.files} files and ${result.dirs} folders imported into ${name}\n`);
}

/** One line on a terminal, rewritten in place; nothing when stderr is not one. */
function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}`);
}
