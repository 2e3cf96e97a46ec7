import { readFileSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir, stat, statfs, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HostCapacityError } from '@paddock/core';
import { idMapping, runHostCommand, sandboxUser } from '@paddock/engine';

const commandTimeout = { timeoutMs: 60_000 };

/**
 * A volume on the host: an ext4 image (`<id>.img`) mounted on a loop
 * device at `<id>/`, nosuid and nodev. Its own file system is what makes the
 * size a hard limit (a write past it fails with ENOSPC, in the sandbox and
 * through the API alike), keeps hard links and renames inside it, and shows a
 * sandbox a mount whose source is a loop device, not a host path.
 */
export class VolumeDisk {
  constructor(private readonly dir: string) {}

  imageOf(id: string): string {
    return join(this.dir, `${id}.img`);
  }

  mountPointOf(id: string): string {
    return join(this.dir, id);
  }

  async create(id: string, sizeMiB: number): Promise<void> {
    const image = this.imageOf(id);
    await writeFile(image, '', { mode: 0o600, flag: 'wx' });
    await this.reserve(image, sizeMiB);
    // The root belongs to the sandbox's `user` (as the sandboxes' user namespace maps it), so it can write at once.
    const owner = `${idMapping.hostId + sandboxUser.uid}:${idMapping.hostId + sandboxUser.gid}`;
    // nodiscard: on a file, mke2fs's discard punches holes, giving back the room just reserved.
    await runHostCommand(
      'mkfs.ext4',
      ['-q', '-F', '-m', '0', '-E', `root_owner=${owner},lazy_itable_init=1,lazy_journal_init=1,nodiscard`, image],
      commandTimeout,
    );
    await this.mount(id);
  }

  /**
   * Takes the volume's whole size on the host's disk now (allocated, not
   * written: it takes milliseconds), so volumes cannot together promise more
   * than the disk has, and filling one never fills the host's disk. Where the
   * file system cannot allocate ahead, the image stays sparse.
   */
  private async reserve(image: string, sizeMiB: number): Promise<void> {
    // Asked first: fallocate fills the disk up to the point where it fails.
    const free = await statfs(this.dir);
    if (sizeMiB * 1024 * 1024 > free.bavail * free.bsize) {
      throw new HostCapacityError(`the host's disk has no room for a volume of ${sizeMiB} MiB`, { sizeMiB });
    }
    try {
      await runHostCommand('fallocate', ['--length', `${sizeMiB}MiB`, image], commandTimeout);
    } catch (err) {
      if (/No space left/i.test((err as Error).message)) {
        throw new HostCapacityError(`the host's disk has no room for a volume of ${sizeMiB} MiB`, { sizeMiB });
      }
      await truncate(image, sizeMiB * 1024 * 1024);
    }
  }

  /**
   * Mounts the volume unless it is mounted already (after a daemon restart it
   * usually is). The loop device does direct I/O: through the host's page
   * cache once rather than twice, sequential writes run at the disk's speed
   * instead of a third of it. Detached at once, it goes with the last unmount.
   */
  async mount(id: string): Promise<void> {
    const target = this.mountPointOf(id);
    if (this.isMounted(id)) return;
    await mkdir(target, { recursive: true, mode: 0o755 });
    const device = await this.attach(this.imageOf(id));
    try {
      await runHostCommand('mount', ['-t', 'ext4', '-o', 'nosuid,nodev,noatime', device, target], commandTimeout);
    } finally {
      // On a mounted device this only marks it to go with the unmount (autoclear); otherwise it frees it now.
      await runHostCommand('losetup', ['--detach', device], commandTimeout).catch(() => {});
    }
  }

  /** A loop device for the image, with direct I/O where the state folder's file system offers it. */
  private async attach(image: string): Promise<string> {
    const attach = (extra: string[]) => runHostCommand('losetup', [...extra, '--find', '--show', image], commandTimeout);
    const { stdout } = await attach(['--direct-io=on']).catch(() => attach([]));
    return stdout.trim();
  }

  isMounted(id: string): boolean {
    const target = this.mountPointOf(id);
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[4] === target);
  }

  async hasImage(id: string): Promise<boolean> {
    return stat(this.imageOf(id)).then(
      () => true,
      () => false,
    );
  }

  /** Unmounts (its loop device goes with the last user) and deletes it. */
  async remove(id: string): Promise<void> {
    if (this.isMounted(id)) await runHostCommand('umount', [this.mountPointOf(id)], commandTimeout);
    // rmdir, never a recursive rm: the folder is empty once unmounted, and a sandbox's files are not the host's to walk.
    await rmdir(this.mountPointOf(id)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rm(this.imageOf(id), { force: true });
  }

  /** The ids of the volumes this folder holds, whole or half made. */
  async ids(): Promise<string[]> {
    const names = await readdir(this.dir);
    return [...new Set(names.map((n) => /^(vol-[0-9a-f]{12})(\.img)?$/.exec(n)?.[1]).filter((id): id is string => id !== undefined))];
  }

  /** Bytes in use on the volume's file system; null when it is not mounted. */
  async usedBytes(id: string): Promise<number | null> {
    if (!this.isMounted(id)) return null;
    const s = await statfs(this.mountPointOf(id));
    return (s.blocks - s.bfree) * s.bsize;
  }
}
