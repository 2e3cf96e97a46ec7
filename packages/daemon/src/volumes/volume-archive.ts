import { once } from 'node:events';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { BadRequestError } from '@paddock/core';
import { Header, type HeaderData, Parser, Pax, type ReadEntry } from 'tar';
import { at, type VolumeFiles } from './volume-files.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const maxDepth = 512;
const block = 512;

/** What an import wrote, and the entries it left out (links, devices, FIFOs: a volume gets files and folders only). */
export interface ImportResult {
  files: number;
  dirs: number;
  skipped: string[];
}

/**
 * A volume as a tar stream: folders, files and symlinks (as links, their
 * target text only), walked by descriptor like every other file call, so a
 * symlink is never followed. FIFOs and devices are left out; a file that
 * changes while it is read is cut or padded to the size its header gave.
 */
export function exportVolume(files: VolumeFiles): Readable {
  return Readable.from(archive(files), { objectMode: false });
}

async function* archive(files: VolumeFiles): AsyncGenerator<Buffer> {
  const root = await files.walk([]);
  try {
    yield* entriesOf(root, '', 0);
  } finally {
    await root.close();
  }
  yield Buffer.alloc(block * 2);
}

async function* entriesOf(dir: FileHandle, prefix: string, depth: number): AsyncGenerator<Buffer> {
  if (depth >= maxDepth) return;
  for (const name of (await readdir(at(dir, '.'))).sort()) {
    if (depth === 0 && name === 'lost+found') continue;
    const path = prefix + name;
    const info = await lstat(at(dir, name)).catch(() => undefined);
    if (!info) continue;
    const common = { path, mode: info.mode & 0o7777, uid: 0, gid: 0, mtime: info.mtime };
    if (info.isSymbolicLink()) {
      yield header({ ...common, path, type: 'SymbolicLink', size: 0, linkpath: await readlink(at(dir, name)) });
    } else if (info.isDirectory()) {
      const child = await open(at(dir, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch(() => undefined);
      if (!child) continue;
      try {
        yield header({ ...common, path: `${path}/`, type: 'Directory', size: 0 });
        yield* entriesOf(child, `${path}/`, depth + 1);
      } finally {
        await child.close();
      }
    } else if (info.isFile()) {
      yield* fileEntry(dir, name, common);
    }
  }
}

async function* fileEntry(dir: FileHandle, name: string, common: HeaderData): AsyncGenerator<Buffer> {
  const file = await open(at(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch(() => undefined);
  if (!file) return;
  try {
    const info = await file.stat();
    if (!info.isFile()) return;
    const size = info.size;
    yield header({ ...common, type: 'File', size });
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024);
    while (sent < size) {
      const { bytesRead } = await file.read(chunk, 0, Math.min(chunk.length, size - sent), sent);
      if (bytesRead === 0) break;
      sent += bytesRead;
      yield Buffer.from(chunk.subarray(0, bytesRead));
    }
    // Shrunk while read: the header promised `size` bytes.
    if (sent < size) yield Buffer.alloc(size - sent);
    if (size % block) yield Buffer.alloc(block - (size % block));
  } finally {
    await file.close();
  }
}

function header(data: HeaderData): Buffer {
  const h = new Header(data);
  const blocks = [h.encode() ? new Pax(data).encode() : Buffer.alloc(0), h.block as Buffer];
  return Buffer.concat(blocks);
}

/**
 * Extracts a tar stream into a volume, safe against a hostile archive: every
 * path is resolved inside the volume (`..` and absolute names included) and
 * written through the same descriptor walk as the file API, so a symlink in
 * the volume is never followed; only files and folders are made (links,
 * devices and FIFOs are left out and named), with permission bits only.
 */
export async function importVolume(files: VolumeFiles, body: AsyncIterable<Uint8Array>): Promise<ImportResult> {
  const result: ImportResult = { files: 0, dirs: 0, skipped: [] };
  let queue: Promise<void> = Promise.resolve();
  let failure: unknown;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      // One entry at a time, in order; after a failure the rest is read past, not written.
      queue = queue
        .then(() => (failure ? void entry.resume() : importEntry(files, entry, result)))
        .catch((err) => {
          failure ??= err;
          entry.resume();
        });
    },
  });
  parser.on('error', (err: unknown) => {
    failure ??= err;
  });
  for await (const chunk of body) {
    if (failure) break;
    if (!parser.write(Buffer.from(chunk))) await once(parser, 'drain');
  }
  // Listened for first: the parser may end within end() itself.
  const ended = once(parser, 'end').catch(() => {});
  parser.end();
  await ended;
  await queue;
  if (failure)
    throw failure instanceof Error && 'status' in failure
      ? failure
      : new BadRequestError(`the archive could not be extracted: ${(failure as Error).message}`, {}, 'bad_archive');
  return result;
}

async function importEntry(files: VolumeFiles, entry: ReadEntry, result: ImportResult): Promise<void> {
  const path = posix.resolve('/', entry.path);
  if (entry.type === 'Directory') {
    if (path !== '/') await files.mkdir(path);
    result.dirs++;
    entry.resume();
    return;
  }
  if (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile') {
    await files.write(path, entry as AsyncIterable<Uint8Array>, (entry.mode ?? 0o644) & 0o777);
    result.files++;
    return;
  }
  if (result.skipped.length < 1000) result.skipped.push(path);
  entry.resume();
}
