import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink, unlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadRequestError } from '@paddock/core';
import { runHostCommand } from '@paddock/engine';
import { extract, type Header } from 'tar-stream';

export interface LayerUnpackOptions {
  /** The layer's name in errors (its digest). */
  layer: string;
  /** Bytes of file data this layer may hold: the smaller of the layer limit and what the image has left. */
  maxBytes: number;
  /** The limit to name when maxBytes is passed. */
  limitBytes: number;
  /** Added to every uid and gid: the host uid that root in a sandbox is. */
  idOffset: number;
  /** uids and gids at or above this have no host id in a sandbox's user namespace. */
  idRange: number;
  signal?: AbortSignal;
}

export interface UnpackedLayer {
  bytes: number;
  entries: number;
}

type EntryData = AsyncIterable<Buffer>;

const whiteoutPrefix = '.wh.';
const opaqueMarker = '.wh..wh..opq';

/**
 * Unpacks one OCI layer (an uncompressed tar) into an empty folder, as
 * overlayfs wants a lower layer: OCI whiteouts become 0/0 character devices
 * and opaque directories the trusted.overlay.opaque xattr. Every entry is
 * hostile: names are checked before anything is written (no absolute paths,
 * no `..`, no writing through a symlink or a file), hard links must point at
 * a file already unpacked from this layer, device nodes and FIFOs are refused,
 * ids are shifted into the sandbox range, and a size over the budget is
 * refused from the header, before its data is read. setuid and setgid bits
 * are kept: inside the sandbox's user namespace they give no host privilege.
 */
export async function unpackLayer(tar: Readable, root: string, options: LayerUnpackOptions): Promise<UnpackedLayer> {
  const unpacker = new LayerWriter(root, options);
  const entries = extract();
  const feeding = pipeline(tar, entries).catch((err: unknown) => err);
  try {
    for await (const entry of entries) {
      options.signal?.throwIfAborted();
      // tar-stream yields Buffers; its types say unknown.
      await unpacker.write(entry.header, entry as AsyncIterable<Buffer>);
    }
  } catch (err) {
    tar.destroy();
    await feeding;
    throw err;
  }
  const failed = await feeding;
  if (failed) throw failed;
  await unpacker.finish();
  return { bytes: unpacker.bytes, entries: unpacker.entries };
}

class LayerWriter {
  bytes = 0;
  entries = 0;
  /** Folders known to be real directories of this layer: no lstat for each of their entries. */
  private readonly dirs = new Set<string>();
  /** Done last, each with the entry that asked for it (named if it is refused then). */
  private readonly whiteouts: Array<{ path: string; entry: string }> = [];
  private readonly opaque: Array<{ path: string; entry: string }> = [];

  constructor(
    private readonly root: string,
    private readonly options: LayerUnpackOptions,
  ) {
    this.dirs.add(root);
  }

  async write(header: Header, data: EntryData): Promise<void> {
    this.entries++;
    const type: string = header.type ?? 'file';
    const parts = this.partsOf(header.name, header.name);
    const name = parts.at(-1);
    // The layer's root itself ("./"): the folder exists already.
    if (name === undefined) return drain(data);
    const parent = await this.parentOf(parts, header.name);
    if (name === opaqueMarker) {
      this.opaque.push({ path: parent, entry: header.name });
      return drain(data);
    }
    // AUFS bookkeeping (.wh..wh.plnk and the like) means nothing to overlayfs.
    if (name.startsWith(`${whiteoutPrefix}${whiteoutPrefix}`)) return drain(data);
    if (name.startsWith(whiteoutPrefix)) {
      const hidden = name.slice(whiteoutPrefix.length);
      if (!hidden || hidden === '.' || hidden === '..') this.refuse(header.name, 'a whiteout that names no file');
      this.whiteouts.push({ path: join(parent, hidden), entry: header.name });
      return drain(data);
    }
    const path = join(parent, name);
    const uid = this.hostId(header.uid ?? 0, header.name);
    const gid = this.hostId(header.gid ?? 0, header.name);
    const mode = (header.mode ?? 0o644) & 0o7777;
    switch (type) {
      case 'directory':
        await this.directory(path, uid, gid, mode);
        return drain(data);
      case 'file':
      case 'contiguous-file':
        return this.file(path, header, data, uid, gid, mode);
      case 'symlink': {
        const target = header.linkname ?? '';
        if (!target || target.includes('\0')) this.refuse(header.name, 'a symbolic link to nothing');
        await this.clear(path);
        await symlink(target, path);
        await lchown(path, uid, gid);
        if (header.mtime) await lutimes(path, header.mtime, header.mtime);
        return drain(data);
      }
      case 'link':
        await this.hardLink(path, header);
        return drain(data);
      case 'character-device':
      case 'block-device':
        this.refuse(header.name, 'a device node');
        break;
      case 'fifo':
        this.refuse(header.name, 'a FIFO');
        break;
      default:
        this.refuse(header.name, `an entry of type ${type}`);
    }
  }

  /** Whiteouts and opaque markers last: a layer may add a file and hide the lower one in any order. */
  async finish(): Promise<void> {
    for (const { path, entry } of this.whiteouts) {
      // A later entry may have turned a folder on the way into a symlink: checked again, never followed.
      await this.requireRealDirectory(dirname(path), entry);
      const existing = await lstat(path).catch(() => null);
      // Deleted, then made again as a folder in this layer: the lower folder's files must not show through.
      if (existing?.isDirectory()) this.opaque.push({ path, entry });
      // Made again as a file: it hides the lower one by itself.
      if (existing) continue;
      await runHostCommand('mknod', ['-m', '000', path, 'c', '0', '0']);
    }
    const done = new Set<string>();
    for (const { path, entry } of this.opaque) {
      if (done.has(path)) continue;
      done.add(path);
      await this.requireRealDirectory(path, entry);
      await runHostCommand('setfattr', ['-h', '-n', 'trusted.overlay.opaque', '-v', 'y', path]);
    }
  }

  /** Every part of the path below the layer's root is a directory of the layer (lstat: a symlink is not one). */
  private async requireRealDirectory(dir: string, entry: string): Promise<void> {
    let path = this.root;
    for (const part of relative(this.root, dir).split('/').filter(Boolean)) {
      path = join(path, part);
      const st = await lstat(path).catch(() => null);
      if (!st?.isDirectory()) this.refuse(entry, `under ${part}, which a later entry made ${st?.isSymbolicLink() ? 'a symbolic link' : 'something else'}`);
    }
  }

  private async directory(path: string, uid: number, gid: number, mode: number): Promise<void> {
    const existing = await lstat(path).catch(() => null);
    if (existing && !existing.isDirectory()) await this.clear(path);
    if (!existing?.isDirectory()) await mkdir(path);
    this.dirs.add(path);
    await lchown(path, uid, gid);
    await chmod(path, mode);
  }

  private async file(path: string, header: Header, data: EntryData, uid: number, gid: number, mode: number): Promise<void> {
    const size = header.size ?? 0;
    if (this.bytes + size > this.options.maxBytes) {
      throw new BadRequestError(
        `layer ${this.options.layer}: ${header.name} (${size} bytes) takes the image over its size limit of ${this.options.limitBytes} bytes`,
        { layer: this.options.layer, entry: header.name, limitBytes: this.options.limitBytes },
        'image_too_large',
      );
    }
    await this.clear(path);
    // wx: O_CREAT|O_EXCL, which never follows a symlink that appeared at the name.
    const out = await open(path, 'wx', 0o600);
    try {
      for await (const chunk of data) await out.write(chunk);
    } finally {
      await out.close();
    }
    this.bytes += size;
    await lchown(path, uid, gid);
    // chown cleared setuid and setgid; the mode is set after it.
    await chmod(path, mode);
    if (header.mtime) await lutimes(path, header.mtime, header.mtime);
  }

  private async hardLink(path: string, header: Header): Promise<void> {
    const linkname = header.linkname ?? '';
    const parts = this.partsOf(linkname, header.name, 'a hard link out of the layer');
    let dir = this.root;
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      if (!this.dirs.has(dir)) this.refuse(header.name, `a hard link to ${linkname}, which is not a file of this layer`);
    }
    const target = join(this.root, ...parts);
    const st = await lstat(target).catch(() => null);
    if (!st || !(st.isFile() || st.isSymbolicLink())) this.refuse(header.name, `a hard link to ${linkname}, which is not a file of this layer`);
    if (target === path) return;
    await this.clear(path);
    await link(target, path);
  }

  /** A name's parts below the layer's root, or a refusal: absolute, `..`, NUL. */
  private partsOf(name: string, entry: string, what = 'a path outside the layer'): string[] {
    if (name.includes('\0') || name.startsWith('/')) this.refuse(entry, what);
    const parts = name.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) this.refuse(entry, what);
    return parts;
  }

  /** The entry's folder, made if missing; a symlink or a file on the way is refused, never followed. */
  private async parentOf(parts: string[], entry: string): Promise<string> {
    let dir = this.root;
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      if (this.dirs.has(dir)) continue;
      const st = await lstat(dir).catch(() => null);
      if (st && !st.isDirectory()) this.refuse(entry, `a path through ${st.isSymbolicLink() ? 'a symbolic link' : 'a file'}`);
      if (!st) {
        await mkdir(dir, { mode: 0o755 });
        await lchown(dir, this.options.idOffset, this.options.idOffset);
      }
      this.dirs.add(dir);
    }
    return dir;
  }

  /** What an earlier entry of this layer left at the name goes: the later entry wins, as tar does. */
  private async clear(path: string): Promise<void> {
    const st = await lstat(path).catch(() => null);
    if (!st) return;
    if (st.isDirectory()) {
      await rm(path, { recursive: true });
      for (const dir of this.dirs) if (dir === path || dir.startsWith(`${path}/`)) this.dirs.delete(dir);
    } else {
      await unlink(path);
    }
  }

  private hostId(id: number, entry: string): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.options.idRange) {
      this.refuse(entry, `owner id ${id}, outside the 0-${this.options.idRange - 1} a sandbox maps`);
    }
    return id + this.options.idOffset;
  }

  private refuse(entry: string, what: string): never {
    throw new BadRequestError(
      `layer ${this.options.layer}: ${entry} is ${what}; the image is refused`,
      { layer: this.options.layer, entry },
      'image_layer_refused',
    );
  }
}

/** Reads an entry's data to its end (tar-stream moves on only then). */
async function drain(data: EntryData): Promise<void> {
  for await (const chunk of data) if (chunk.length) continue;
}
