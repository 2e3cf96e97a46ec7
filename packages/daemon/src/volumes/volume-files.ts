import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, readlink, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { BadRequestError, type FileEntry, UnavailableError } from '@paddock/core';
import { agentFailure, idMapping, sandboxUser } from '@paddock/engine';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const hostUid = idMapping.hostId + sandboxUser.uid;
const hostGid = idMapping.hostId + sandboxUser.gid;
/** Deeper trees are refused by a recursive remove rather than holding a descriptor per level. */
const maxDepth = 512;

/**
 * File operations on a volume from the host, where the daemon is root and the
 * volume's content is hostile (a sandbox made it). Nothing is looked up by a
 * host path below the volume's root: each step opens one name in the
 * directory already held, by descriptor (/proc/self/fd/N/name), with
 * O_NOFOLLOW, so a symlink anywhere in the path is refused rather than
 * followed, and a sandbox swapping a directory for a symlink mid-walk gains
 * nothing. `..` never reaches a lookup (the path is resolved against / first),
 * and the volume is its own file system, so no hard link leads out of it.
 * Whatever the API creates belongs to the sandbox's `user`.
 */
export class VolumeFiles {
  /** `root` is the volume's mount point (a daemon path, trusted). */
  constructor(private readonly root: string) {}

  async read(path: string): Promise<{ entry: FileEntry; body: Readable }> {
    const { parts, name } = split(path);
    if (name === undefined) throw new BadRequestError('/ is a directory', { path: '/' }, 'is_a_directory');
    const dir = await this.walk(parts);
    try {
      // O_NONBLOCK: a FIFO a sandbox left opens at once (and is refused below) instead of hanging the call.
      const file = await open(at(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch(failed(path));
      const info = await file.stat();
      if (!info.isFile()) {
        await file.close();
        if (info.isDirectory()) throw new BadRequestError(`${path} is a directory`, { path }, 'is_a_directory');
        throw new BadRequestError(`${path} is not a regular file`, { path });
      }
      return { entry: entryOf(normal(path), info, null), body: file.createReadStream() };
    } finally {
      await dir.close();
    }
  }

  /** Writes a file whole: the bytes go to a new name in the same folder, renamed over the target once complete. */
  async write(path: string, body: AsyncIterable<Uint8Array> | Uint8Array, mode = 0o644): Promise<FileEntry> {
    const { parts, name } = split(path);
    if (name === undefined) throw new BadRequestError('/ is a directory', { path: '/' }, 'is_a_directory');
    const dir = await this.walk(parts, true);
    const temp = `.paddock-upload-${randomBytes(6).toString('hex')}`;
    try {
      const file = await open(at(dir, temp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode & 0o777).catch(failed(path));
      try {
        await file.chown(hostUid, hostGid);
        await file.chmod(mode & 0o777);
        if (body instanceof Uint8Array) await file.write(body);
        else for await (const chunk of body) await file.write(chunk);
        await file.close();
      } catch (err) {
        await file.close().catch(() => {});
        await unlink(at(dir, temp)).catch(() => {});
        throw failed(path)(err);
      }
      // rename replaces a symlink planted at the name; it never follows it.
      await rename(at(dir, temp), at(dir, name)).catch(async (err) => {
        await unlink(at(dir, temp)).catch(() => {});
        throw failed(path)(err);
      });
      return entryOf(normal(path), await lstat(at(dir, name)), null);
    } finally {
      await dir.close();
    }
  }

  async list(path: string): Promise<FileEntry[]> {
    const { parts, name } = split(path);
    const dir = await this.walk(name === undefined ? parts : [...parts, name]);
    try {
      const entries: FileEntry[] = [];
      for (const child of await readdir(at(dir, '.'))) {
        const info = await lstat(at(dir, child)).catch(() => undefined);
        if (!info) continue;
        const target = info.isSymbolicLink() ? await readlink(at(dir, child)).catch(() => '') : null;
        entries.push(entryOf(posix.join(normal(path), child), info, target));
      }
      return entries.sort((a, b) => a.name.localeCompare(b.name));
    } finally {
      await dir.close();
    }
  }

  async stat(path: string): Promise<FileEntry> {
    const { parts, name } = split(path);
    if (name === undefined) {
      const root = await this.walk([]);
      try {
        return entryOf('/', await root.stat(), null);
      } finally {
        await root.close();
      }
    }
    const dir = await this.walk(parts);
    try {
      const info = await lstat(at(dir, name)).catch(failed(path));
      return entryOf(normal(path), info, info.isSymbolicLink() ? await readlink(at(dir, name)).catch(() => '') : null);
    } finally {
      await dir.close();
    }
  }

  /** Creates a directory and its parents. */
  async mkdir(path: string): Promise<FileEntry> {
    const { parts, name } = split(path);
    const dir = await this.walk(name === undefined ? parts : [...parts, name], true);
    try {
      return entryOf(normal(path), await dir.stat(), null);
    } finally {
      await dir.close();
    }
  }

  async remove(path: string, recursive: boolean): Promise<string> {
    const { parts, name } = split(path);
    if (name === undefined) throw new BadRequestError("a volume's root cannot be removed", { path: '/' });
    const dir = await this.walk(parts);
    try {
      await removeAt(dir, name, recursive, 0).catch(failed(path));
      return normal(path);
    } finally {
      await dir.close();
    }
  }

  /** Opens the root, then each part below it as a directory, never following a symlink; creates missing parts when asked. */
  async walk(parts: string[], create = false): Promise<FileHandle> {
    let dir = await open(this.root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    // An unmounted volume's folder is the host's disk, with no size limit: never write there.
    if ((await dir.stat()).dev === (await stat(dirname(this.root))).dev) {
      await dir.close();
      throw new UnavailableError('the volume is not mounted; the daemon mounts it again when it restarts');
    }
    const walked: string[] = [];
    try {
      for (const part of parts) {
        walked.push(part);
        if (create) {
          await mkdir(at(dir, part), { mode: 0o755 }).then(
            () => chownAt(dir, part),
            (err: NodeJS.ErrnoException) => {
              if (err.code !== 'EEXIST') throw err;
            },
          );
        }
        const next = await open(at(dir, part), O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch(async (err: NodeJS.ErrnoException) => {
          // O_DIRECTORY|O_NOFOLLOW on a symlink fails ENOTDIR; say what it was (the open already refused it).
          if (err.code === 'ENOTDIR' && (await lstat(at(dir, part)).catch(() => undefined))?.isSymbolicLink()) err.code = 'ELOOP';
          throw err;
        });
        await dir.close();
        dir = next;
      }
      return dir;
    } catch (err) {
      await dir.close();
      throw failed(`/${walked.join('/')}`)(err);
    }
  }
}

/** A name in a directory held open: the kernel looks up only `name`, in exactly that directory. */
export function at(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

async function chownAt(dir: FileHandle, name: string): Promise<void> {
  const child = await open(at(dir, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    await child.chown(hostUid, hostGid);
  } finally {
    await child.close();
  }
}

async function removeAt(dir: FileHandle, name: string, recursive: boolean, depth: number): Promise<void> {
  const info = await lstat(at(dir, name));
  if (!info.isDirectory()) return unlink(at(dir, name));
  if (recursive) {
    if (depth >= maxDepth) throw new BadRequestError(`the tree is deeper than ${maxDepth} levels`);
    const child = await open(at(dir, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      for (const entry of await readdir(at(child, '.'))) await removeAt(child, entry, true, depth + 1);
    } finally {
      await child.close();
    }
  }
  await rmdir(at(dir, name));
}

/** The path's folders and last name, `..` resolved against / so it never reaches a lookup. */
function split(path: string): { parts: string[]; name: string | undefined } {
  const parts = normal(path).split('/').filter(Boolean);
  const name = parts.pop();
  return { parts, name };
}

function normal(path: string): string {
  return posix.resolve('/', path);
}

/** A host errno as the typed error a sandbox's file operation gives (ELOOP: a symlink the walk refused to follow). */
function failed(path: string): (err: unknown) => never {
  return (err) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) throw err;
    if (code === 'ELOOP') throw new BadRequestError(`${path}: volume paths do not follow symbolic links`, { path, errno: code }, 'too_many_symlinks');
    throw agentFailure(`${code} ${path}: ${describe(code)}`);
  };
}

function describe(code: string): string {
  const known: Record<string, string> = {
    ENOENT: 'no such file or directory',
    ENOTDIR: 'not a directory',
    EEXIST: 'file exists',
    ENOTEMPTY: 'directory not empty',
    EISDIR: 'is a directory',
    ENOSPC: 'no space left on the volume',
    ENAMETOOLONG: 'name too long',
  };
  return known[code] ?? code;
}

/** Host ids as the sandbox sees them (its user namespace maps idMapping.hostId to 0). */
function sandboxId(hostId: number): number {
  return hostId >= idMapping.hostId && hostId < idMapping.hostId + idMapping.size ? hostId - idMapping.hostId : 65534;
}

function entryOf(path: string, info: Stats, symlinkTarget: string | null): FileEntry {
  const type = info.isFile() ? 'file' : info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'symlink' : 'other';
  return {
    name: posix.basename(path) || '/',
    path,
    type,
    size: info.size,
    mode: info.mode & 0o7777,
    mtime: info.mtime.toISOString(),
    uid: sandboxId(info.uid),
    gid: sandboxId(info.gid),
    symlinkTarget,
  };
}
