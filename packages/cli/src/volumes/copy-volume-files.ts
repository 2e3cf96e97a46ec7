import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { printable } from '@paddock/core/client';
import { NotFoundError, type VolumeFiles, Volumes } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError, UsageError } from '../errors/cli-error.js';
import { writeToStdout } from '../files/write-to-stdout.js';

type Endpoint = { kind: 'local'; path: string } | { kind: 'volume'; name: string; path: string };

/** `paddock volume cp SRC DEST`: exactly one side is NAME:/path; docker cp's rules for existing folders; prints nothing on success. */
export async function copyVolumeFiles(srcText: string, destText: string, _flags: object, command: Command): Promise<void> {
  const src = parseEndpoint(srcText);
  const dest = parseEndpoint(destText);
  if (src.kind === 'volume' && dest.kind === 'local') {
    return download((await Volumes.get(src.name, connectionFor(command))).files, src.path, dest.path);
  }
  if (src.kind === 'local' && dest.kind === 'volume') {
    return upload((await Volumes.get(dest.name, connectionFor(command))).files, src.path, dest.path);
  }
  throw new UsageError('volume cp needs exactly one side of the form NAME:/path, e.g. paddock volume cp ./data.csv repo:/work/');
}

function parseEndpoint(text: string): Endpoint {
  const match = /^([a-z0-9][a-z0-9_.-]{0,62}):(\/.*)$/.exec(text);
  return match ? { kind: 'volume', name: match[1] as string, path: match[2] as string } : { kind: 'local', path: text };
}

async function upload(files: VolumeFiles, local: string, remote: string): Promise<void> {
  if (local === '-') return void (await files.write(remote, webStream(process.stdin), { timeoutMs: 0 }));
  const stats = await stat(local).catch(() => {
    throw new CliError(`${local}: no such file or directory`);
  });
  const existing = await remoteType(files, remote);
  const into = existing === 'dir' || remote.endsWith('/');
  const target = into ? posix.join(remote, basename(local)) : remote;
  if (!stats.isDirectory()) return void (await files.write(target, webStream(createReadStream(local)), { mode: stats.mode & 0o777, timeoutMs: 0 }));
  if (!into && existing !== undefined) throw new CliError(`cannot copy the folder ${local} onto the file ${remote}`);
  await uploadFolder(files, local, target);
}

async function uploadFolder(files: VolumeFiles, local: string, target: string): Promise<void> {
  await files.makeDir(target);
  for (const entry of await readdir(local, { withFileTypes: true })) {
    const from = join(local, entry.name);
    const to = posix.join(target, entry.name);
    if (entry.isDirectory()) await uploadFolder(files, from, to);
    else if (entry.isFile()) await files.write(to, webStream(createReadStream(from)), { mode: statSync(from).mode & 0o777, timeoutMs: 0 });
    else process.stderr.write(`paddock: ${from}: left out (only files and folders are copied)\n`);
  }
}

async function download(files: VolumeFiles, remote: string, local: string): Promise<void> {
  const info = await files.getInfo(remote);
  if (info.type === 'dir') {
    if (local === '-') throw new UsageError('a folder cannot be copied to stdout; name a local folder');
    const target = isFolder(local) ? join(local, posix.basename(info.path) || 'volume') : local;
    if (existsSync(target) && !isFolder(target)) throw new CliError(`cannot copy the folder ${remote} onto the file ${target}`);
    requireFolder(dirname(resolve(target)));
    return downloadFolder(files, info.path, target);
  }
  if (info.type !== 'file') throw new CliError(`${printable(remote)} is a ${info.type}; only files and folders are copied`);
  const target = local !== '-' && isFolder(local) ? join(local, posix.basename(info.path)) : local;
  if (target !== '-') requireFolder(dirname(resolve(target)));
  const source = nodeStream(await files.read(remote, { format: 'stream', timeoutMs: 0 }));
  if (target === '-') return writeToStdout(source);
  // Permission bits only: a setuid bit set inside a sandbox does not come along.
  await pipeline(source, createWriteStream(target, { mode: info.mode & 0o777 }));
}

/**
 * A folder of the volume into a local folder. What a sandbox left there is
 * hostile: symlinks, FIFOs and devices are left out (and said so), names are
 * taken only as single path parts, and no setuid bit comes along.
 */
async function downloadFolder(files: VolumeFiles, remote: string, local: string): Promise<void> {
  if (!isFolder(local)) mkdirSync(local);
  for (const entry of await files.list(remote)) {
    if (entry.name === '.' || entry.name === '..' || entry.name.includes('/') || entry.name.includes('\0')) continue;
    const to = join(local, entry.name);
    if (entry.type === 'dir') await downloadFolder(files, entry.path, to);
    else if (entry.type === 'file') {
      const source = nodeStream(await files.read(entry.path, { format: 'stream', timeoutMs: 0 }));
      await pipeline(source, createWriteStream(to, { mode: entry.mode & 0o777 }));
    } else process.stderr.write(`paddock: ${printable(entry.path)}: left out (a ${entry.type}; only files and folders are copied)\n`);
  }
}

async function remoteType(files: VolumeFiles, path: string): Promise<string | undefined> {
  try {
    return (await files.getInfo(path)).type;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

function isFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function requireFolder(path: string): void {
  if (!isFolder(path)) throw new CliError(`${path}: no such folder`);
}

function webStream(stream: Readable): ReadableStream<Uint8Array> {
  return Readable.toWeb(stream) as ReadableStream<Uint8Array>;
}

function nodeStream(stream: ReadableStream<Uint8Array>): Readable {
  return Readable.fromWeb(stream as NodeReadableStream<Uint8Array>);
}
