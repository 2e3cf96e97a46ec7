import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { Sandbox } from '@paddock/sdk';
import { CliError } from '../errors/cli-error.js';
import { writeToStdout } from './write-to-stdout.js';

/** A sandbox file or folder to a local path (stdout for `-`), with docker cp's rules for existing folders. */
export async function downloadPath(sbx: Sandbox, remote: string, local: string): Promise<void> {
  const info = await sbx.files.getInfo(remote);
  if (info.type === 'dir') return downloadFolder(sbx, remote, local, posix.basename(info.path) || '.');
  return downloadFile(sbx, remote, local, info.mode);
}

async function downloadFile(sbx: Sandbox, remote: string, local: string, mode: number): Promise<void> {
  if (local.endsWith('/')) requireFolder(local);
  const target = local !== '-' && isFolder(local) ? join(local, posix.basename(remote)) : local;
  if (target !== '-') requireFolder(dirname(resolve(target)));
  const source = nodeStream(await sbx.files.read(remote, { format: 'stream', timeoutMs: 0 }));
  if (target === '-') return writeToStdout(source);
  await pipeline(source, createWriteStream(target, { mode: mode & 0o777 }));
}

async function downloadFolder(sbx: Sandbox, remote: string, local: string, name: string): Promise<void> {
  // A folder to stdout is a tar stream, as with docker cp.
  if (local === '-') return writeToStdout(nodeStream(await sbx.files.downloadArchive(remote)));
  const into = isFolder(local);
  if (!into) {
    if (existsSync(local)) throw new CliError(`cannot copy the folder ${remote} onto the file ${local}`);
    requireFolder(dirname(resolve(local)));
    mkdirSync(local);
  }
  // The archive holds the folder under its own name; a copy to a new name drops that level.
  // Unpacked here, not by the host's tar run as root: what a sandbox's root
  // made (setuid files, devices, links out) must not land as it is. Loaded
  // only for this: no other command pays for the tar library.
  const { extractArchive } = await import('@paddock/sdk/node');
  // Into a folder that holds other things, nothing may land beside the copy.
  await extractArchive(await sbx.files.downloadArchive(remote), local, into ? { within: name } : { strip: 1 });
}

function isFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function requireFolder(path: string): void {
  if (!isFolder(path)) throw new CliError(`${path}: no such folder`);
}

function nodeStream(stream: ReadableStream<Uint8Array>): Readable {
  return Readable.fromWeb(stream as NodeReadableStream<Uint8Array>);
}
