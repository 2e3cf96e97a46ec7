import { mkdir } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { FileError, printable } from '@paddock/core/client';
import { type ReadEntry, x as unpack } from 'tar';

export interface ExtractOptions {
  /** Leading path elements dropped from every entry, as tar's --strip-components. */
  strip?: number;
  /**
   * The one top folder every entry must lie in (the folder the archive was
   * asked for): unpacked into a folder that holds other things, an archive
   * may put nothing beside it (a .ssh/ in a home folder, say).
   */
  within?: string;
}

/** An entry of the archive left out, and why. */
export interface RefusedEntry {
  path: string;
  reason: string;
}

/** Entry types whose kind of file may land on this machine. */
const fileTypes = new Set(['File', 'OldFile', 'ContiguousFile']);
const typeNames: Record<string, string> = {
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a FIFO',
};
/** Names in a message are cut after this many; the rest are counted. */
const namedInMessage = 5;
/** Refused entries kept for the error's details. */
const keptRefusals = 100;

/**
 * Unpacks a tar stream made inside a sandbox into `dir` (created if
 * missing). A sandbox's root makes whatever archive it likes, so only
 * regular files, folders, symbolic links that stay inside `dir` and hard
 * links to files of the same archive land; setuid, setgid and sticky bits
 * are cleared, owners are not kept. Everything else is left out and named in
 * a FileError (code `unsafe_archive`) once the rest is unpacked.
 */
export async function extractArchive(archive: ReadableStream<Uint8Array> | Readable, dir: string, options: ExtractOptions = {}): Promise<void> {
  const strip = options.strip ?? 0;
  const cwd = resolve(dir);
  await mkdir(cwd, { recursive: true });
  const refused: RefusedEntry[] = [];
  let refusedCount = 0;
  // A hostile archive may hold millions of entries to refuse: the first are kept, the rest counted.
  const refuse = (path: string, reason: string) => {
    refusedCount += 1;
    if (refused.length < keptRefusals) refused.push({ path, reason });
  };
  const files = new Set<string>();
  const unpacker = unpack({
    cwd,
    strip,
    preserveOwner: false,
    // Modes apply as files are made, under this process's umask; what is already there keeps its own.
    chmod: false,
    filter: (path, entry) => {
      // Links must stay in the folder the copy makes: `dir` itself, or the one top folder asked for.
      const reason = refusal(entry as ReadEntry, options.within === undefined ? strip : 1, files) ?? outside(entry as ReadEntry, options.within);
      if (reason) {
        refuse(path, reason);
        return false;
      }
      return true;
    },
    onwarn: (code, message, data) => {
      // Stripping the root of an absolute name is only informative; such names never get this far.
      if (code === 'TAR_ENTRY_INFO') return;
      const path = String((data as { entry?: ReadEntry } | undefined)?.entry?.path ?? '');
      refuse(path, String(message));
    },
  });
  const source = archive instanceof Readable ? archive : Readable.fromWeb(archive as NodeReadableStream<Uint8Array>);
  await pipeline(source, unpacker);
  if (refusedCount) throw unsafeArchive(refused, refusedCount, cwd);
}

/** Why an entry may not land, if it may not; keeps `files` (the regular files unpacked so far) up to date. */
function refusal(entry: ReadEntry, depth: number, files: Set<string>): string | undefined {
  const path = posix.normalize(entry.path);
  files.delete(path);
  const allowed = fileTypes.has(entry.type) || entry.type === 'Directory' || entry.type === 'SymbolicLink' || entry.type === 'Link';
  if (!allowed) return `${typeNames[entry.type] ?? `an entry of type ${entry.type}`}, not a file, folder or link`;
  if (entry.path.startsWith('/')) return 'an absolute path';
  if (entry.path.split('/').includes('..')) return 'a path with ..';
  if (entry.type === 'SymbolicLink') {
    const target = entry.linkpath ?? '';
    const local = entry.path.split('/').slice(depth).join('/');
    const resolved = posix.normalize(posix.join(posix.dirname(local), target));
    if (!target || target.startsWith('/') || resolved === '..' || resolved.startsWith('../') || climbsAfterName(target)) {
      return `a symbolic link to ${target || 'nothing'}, outside the folder`;
    }
  }
  if (entry.type === 'Link' && !files.has(posix.normalize(entry.linkpath ?? ''))) {
    return `a hard link to ${entry.linkpath ?? 'nothing'}, not a file of this archive`;
  }
  if (fileTypes.has(entry.type) || entry.type === 'Link') files.add(path);
  // A setuid file from a sandbox would run as its owner here: only permission bits land.
  if (typeof entry.mode === 'number') entry.mode &= 0o777;
  return undefined;
}

/**
 * Whether a link's target goes up after going down ("d/b/../.."). The kernel
 * takes ".." from wherever "d/b" led, which may be another link: read by the
 * name it stays inside, followed it may not. Leading ".." start from the
 * link's own folder, a real one, and are read as written.
 */
function climbsAfterName(target: string): boolean {
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  const firstName = parts.findIndex((p) => p !== '..');
  return firstName >= 0 && parts.slice(firstName).includes('..');
}

function outside(entry: ReadEntry, within: string | undefined): string | undefined {
  if (within === undefined || entry.path.split('/')[0] === within) return undefined;
  return `outside ${within}/, the folder asked for`;
}

function unsafeArchive(refused: RefusedEntry[], count: number, dir: string): FileError {
  const named = refused
    .slice(0, namedInMessage)
    .map((r) => `${printable(JSON.stringify(r.path))} (${printable(r.reason)})`)
    .join(', ');
  const more = count > namedInMessage ? ` and ${count - namedInMessage} more` : '';
  return new FileError(
    'unsafe_archive',
    `left out ${count} ${count === 1 ? 'entry' : 'entries'} of the sandbox's archive: ${named}${more}; the rest is in ${dir}`,
    { refused, count, dir },
  );
}
