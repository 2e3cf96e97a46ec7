import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import { BadRequestError } from '@paddock/core';
import picomatch from 'picomatch';
import { extract, pack } from 'tar-stream';

/** One file, folder or symlink of a build context (or of an earlier stage's files). */
export interface TreeEntry {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  data?: Buffer;
  linkname?: string;
}

/** Files by their path relative to the tree's root, without a leading or trailing slash. */
export type FileTree = Map<string, TreeEntry>;

export interface TreeLimits {
  maxBytes: number;
  maxEntries: number;
}

export const contextLimits: TreeLimits = { maxBytes: 1024 * 1024 * 1024, maxEntries: 200_000 };

function refuse(message: string, details: Record<string, unknown> = {}): never {
  throw new BadRequestError(message, details, 'build_context_refused');
}

/**
 * Reads a tar (a build context, or files an earlier stage gave) into memory.
 * It is hostile input: a name that is absolute or climbs out with `..`, a
 * device or a hard link to anything but a file before it is refused, and
 * sizes are capped. Nothing is ever written
 * to the host's disk: symlinks stay entries, never followed.
 */
export async function readTree(tar: Buffer | Readable, limits: TreeLimits = contextLimits): Promise<FileTree> {
  const tree: FileTree = new Map();
  const reader = extract();
  let total = 0;
  const done = new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const fail = (err: unknown) => {
        stream.resume();
        reject(err);
      };
      let name: string;
      try {
        name = treePath(header.name);
        if (header.type === 'link') {
          // A hard link is a second name for a file read before it: kept as a copy, never as a link.
          const target = tree.get(treePath(header.linkname ?? ''));
          if (target?.type !== 'file')
            refuse(`build context entry ${header.name}: a hard link to ${header.linkname}, which is no file before it`, { entry: header.name });
          tree.set(name, { ...target });
          stream.on('end', () => next());
          stream.resume();
          return;
        }
        if (!['file', 'directory', 'symlink'].includes(header.type ?? ''))
          refuse(`build context entry ${header.name}: ${header.type} entries are not allowed`, { entry: header.name });
        if (tree.size >= limits.maxEntries) refuse(`the build context has more than ${limits.maxEntries} entries`);
      } catch (err) {
        fail(err);
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (data: unknown) => {
        const chunk = data as Buffer;
        total += chunk.length;
        if (total > limits.maxBytes) {
          reader.destroy();
          reject(new BadRequestError(`the build files are larger than ${limits.maxBytes} bytes`, {}, 'build_context_refused'));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        if (name !== '') {
          tree.set(name, {
            type: header.type as TreeEntry['type'],
            mode: (header.mode ?? 0o644) & 0o7777,
            data: header.type === 'file' ? Buffer.concat(chunks) : undefined,
            linkname: header.type === 'symlink' ? (header.linkname ?? '') : undefined,
          });
        }
        next();
      });
    });
    reader.on('finish', () => resolve());
    reader.on('error', (err) =>
      reject(err instanceof BadRequestError ? err : new BadRequestError(`the build files are not a valid tar: ${err.message}`, {}, 'bad_archive')),
    );
  });
  (Buffer.isBuffer(tar) ? Readable.from([tar]) : tar).pipe(reader);
  await done;
  return tree;
}

/** A tar entry's name as a tree path, or a refusal when it is absolute or leaves the root. */
function treePath(name: string): string {
  const normal = posix.normalize(name.replace(/^(\.\/)+/, ''));
  if (name.startsWith('/') || normal === '..' || normal.startsWith('../')) refuse(`build context entry ${name} is outside the context`, { entry: name });
  return normal === '.' ? '' : normal.replace(/\/+$/, '');
}

/** Drops what the context's .dockerignore excludes, by Docker's own matching rules. */
export function applyDockerignore(tree: FileTree): FileTree {
  const file = tree.get('.dockerignore');
  if (!file?.data) return tree;
  const ig = dockerignore.default({ ignorecase: false }).add(file.data.toString('utf8'));
  const kept: FileTree = new Map();
  for (const [path, entry] of tree) {
    // A folder that is excluded takes what is inside it along, unless a ! rule brings a file back.
    if (ig.ignores(path)) continue;
    kept.set(path, entry);
  }
  return kept;
}

/** A file picked for COPY: its path in the tree and where it goes below the destination. */
export interface PickedEntry {
  from: string;
  to: string;
  entry: TreeEntry;
}

/**
 * What one COPY source names in a tree: a file, a folder's contents, or the
 * matches of a wildcard. The source is taken relative to the tree's root
 * (`..` cannot leave it); a symlink source is followed only inside the tree.
 */
export function pick(tree: FileTree, source: string, line: number): { entries: PickedEntry[]; directory: boolean } {
  const rel = resolveInTree(tree, source, line);
  if (/[*?[]/.test(rel)) {
    const match = picomatch(rel, { dot: true });
    const roots = [...tree.keys()].filter((p) => match(p));
    if (!roots.length) refuse(`line ${line}: COPY ${source}: no file in the build context matches`, { line, source });
    return { entries: roots.flatMap((root) => below(tree, root, posix.basename(root))), directory: true };
  }
  const entry = rel === '' ? { type: 'directory' as const, mode: 0o755 } : tree.get(rel);
  if (!entry) refuse(`line ${line}: COPY ${source}: not in the build context`, { line, source });
  if (entry.type === 'directory') return { entries: below(tree, rel, ''), directory: true };
  return { entries: [{ from: rel, to: posix.basename(rel), entry }], directory: false };
}

function resolveInTree(tree: FileTree, source: string, line: number): string {
  const normal = posix.normalize(`/${source}`).slice(1).replace(/\/+$/, '');
  const climbed = posix.normalize(source);
  if (climbed === '..' || climbed.startsWith('../')) {
    refuse(`line ${line}: COPY ${source} is outside the build context`, { line, source });
  }
  // Follow symlinks among the path's parts, but only to places inside the tree.
  let resolved = '';
  let hops = 0;
  const parts = normal ? normal.split('/') : [];
  while (parts.length) {
    const part = parts.shift() as string;
    const next = resolved ? `${resolved}/${part}` : part;
    const entry = tree.get(next);
    if (entry?.type === 'symlink' && !/[*?[]/.test(part)) {
      if (++hops > 40) refuse(`line ${line}: COPY ${source}: too many symlinks`, { line, source });
      const target = entry.linkname ?? '';
      const joined = target.startsWith('/') ? target : posix.join(resolved || '.', target);
      const inside = posix.normalize(`/${joined}`);
      if (!target.startsWith('/') && posix.normalize(joined).startsWith('..')) {
        refuse(`line ${line}: COPY ${source} follows a symlink out of the build context`, { line, source });
      }
      parts.unshift(...inside.slice(1).split('/').filter(Boolean));
      resolved = '';
      continue;
    }
    resolved = next;
  }
  return resolved;
}

function below(tree: FileTree, root: string, prefix: string): PickedEntry[] {
  const out: PickedEntry[] = [];
  const own = tree.get(root);
  if (own && prefix) out.push({ from: root, to: prefix, entry: own });
  const start = root === '' ? '' : `${root}/`;
  for (const [path, entry] of tree) {
    if (start && !path.startsWith(start)) continue;
    if (path === root) continue;
    const rest = path.slice(start.length);
    out.push({ from: path, to: prefix ? `${prefix}/${rest}` : rest, entry });
  }
  return out;
}

/** sha256 of what was picked: names, modes, contents and link targets (a step's cache input). */
export function hashPicked(entries: PickedEntry[]): string {
  const hash = createHash('sha256');
  for (const { to, entry } of [...entries].sort((a, b) => a.to.localeCompare(b.to))) {
    hash.update(`${to}\0${entry.type}\0${entry.mode}\0${entry.linkname ?? ''}\0`);
    if (entry.data) hash.update(createHash('sha256').update(entry.data).digest());
  }
  return hash.digest('hex');
}

/** How a file's first bytes say it is a tar archive, compressed or not: busybox tar's flag for it ('' for plain tar). */
export function archiveFlag(data: Buffer | undefined): string | undefined {
  if (!data) return undefined;
  if (data[0] === 0x1f && data[1] === 0x8b) return 'z';
  if (data.subarray(0, 3).toString('latin1') === 'BZh') return 'j';
  if (data.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'J';
  if (data.subarray(257, 262).toString('latin1') === 'ustar') return '';
  return undefined;
}

/**
 * A tar of the picked entries under `dest` (an absolute path in the sandbox),
 * owned by root: what a COPY step extracts at `/`; `extra` files go at their
 * own absolute paths (ADD's archives, unpacked from there).
 */
export async function packPicked(
  entries: PickedEntry[],
  dest: string,
  destIsDir: boolean,
  extra: Array<{ path: string; data: Buffer; mode: number }> = [],
): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    tar.on('end', () => resolve());
    tar.on('error', reject);
  });
  const base = dest.replace(/^\/+/, '').replace(/\/+$/, '');
  const name = (to: string) => (destIsDir ? (to ? posix.join(base, to) : base) : base);
  if (destIsDir && base) tar.entry({ name: base, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
  for (const { to, entry } of entries) {
    const header = { name: name(to), mode: entry.mode, uid: 0, gid: 0 };
    if (!header.name) continue;
    if (entry.type === 'file') tar.entry({ ...header, type: 'file' }, entry.data ?? Buffer.alloc(0));
    else if (entry.type === 'directory') tar.entry({ ...header, type: 'directory' });
    else tar.entry({ ...header, type: 'symlink', linkname: entry.linkname ?? '' });
  }
  for (const { path, data, mode } of extra) tar.entry({ name: path.replace(/^\/+/, ''), type: 'file', mode, uid: 0, gid: 0 }, data);
  tar.finalize();
  await ended;
  return Buffer.concat(chunks);
}
