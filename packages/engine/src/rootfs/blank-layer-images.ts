import { mkdir, readdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runHostCommand } from '../host/run-host-command.js';

/** Blanks kept; the oldest go beyond it (each is a few MiB of metadata on the disk). */
const maxBlanks = 16;

/**
 * Empty ext4 file systems, one per size, that disk-backed writable layers are
 * copied from: mkfs runs once per size instead of on every create. A layer
 * never outlives its sandbox, not even a host crash, so it has no journal;
 * its inode tables are never written (lazy_itable_init), so they stay holes.
 */
export class BlankLayerImages {
  private readonly making = new Map<number, Promise<string>>();

  constructor(private readonly dir: string) {}

  /** The blank of `diskMiB`, made now if there is none. */
  async of(diskMiB: number): Promise<string> {
    const path = join(this.dir, `${diskMiB}.img`);
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      return path;
    let made = this.making.get(diskMiB);
    if (!made) {
      made = this.make(diskMiB, path).finally(() => this.making.delete(diskMiB));
      this.making.set(diskMiB, made);
    }
    return made;
  }

  private async make(diskMiB: number, path: string): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const partial = `${path}.${process.pid}.partial`;
    try {
      await writeFile(partial, '', { mode: 0o600 });
      await truncate(partial, diskMiB * 1024 * 1024);
      // 4 KiB blocks at any size, so the loop device's direct I/O lines up; nodiscard: a blank has nothing to give back.
      await runHostCommand('mkfs.ext4', [
        '-q',
        '-F',
        '-b',
        '4096',
        '-m',
        '0',
        '-O',
        '^has_journal,^resize_inode',
        '-E',
        'lazy_itable_init=1,nodiscard',
        partial,
      ]);
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    await this.prune(path);
    return path;
  }

  /**
   * Removes the oldest blanks beyond the most kept (a copy already under way
   * keeps its open file), and what a previous daemon left half made.
   */
  private async prune(keep: string): Promise<void> {
    const all = await readdir(this.dir);
    for (const n of all) if (n.endsWith('.partial') && !n.endsWith(`.${process.pid}.partial`)) await rm(join(this.dir, n), { force: true });
    const names = all.filter((n) => /^\d+\.img$/.test(n));
    if (names.length <= maxBlanks) return;
    const aged = await Promise.all(names.map(async (n) => ({ path: join(this.dir, n), mtimeMs: (await stat(join(this.dir, n))).mtimeMs })));
    aged.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const { path } of aged.slice(0, names.length - maxBlanks)) if (path !== keep) await rm(path, { force: true });
  }
}
