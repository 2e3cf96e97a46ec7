import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, statfs, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HostCapacityError } from '@paddock/core';
import { mountHelperPath } from '../agent/agent-binaries.js';
import { hostRootfsMountFlags, idMapping } from '../bundle/isolation-settings.js';
import type { LeanSpawner } from '../host/lean-spawner.js';
import { runHostCommand } from '../host/run-host-command.js';
import type { BlankLayerImages } from './blank-layer-images.js';

/** Where one sandbox's files live on the host. */
export interface SandboxPaths {
  dir: string;
  rootfs: string;
  /** The file system that bounds the writable layer's size (a tmpfs, or an ext4 image on disk); holds upper/ and work/. */
  scratch: string;
  /** A disk-backed writable layer's ext4 image. */
  image: string;
  upper: string;
  work: string;
  runDir: string;
  socket: string;
  hosts: string;
  hostname: string;
}

export function sandboxPaths(sandboxesDir: string, id: string): SandboxPaths {
  const dir = join(sandboxesDir, id);
  return {
    dir,
    rootfs: join(dir, 'rootfs'),
    scratch: join(dir, 'scratch'),
    image: join(dir, 'layer.img'),
    upper: join(dir, 'scratch', 'upper'),
    work: join(dir, 'scratch', 'work'),
    runDir: join(dir, 'scratch', 'run'),
    socket: join(dir, 'scratch', 'run', 'agent.sock'),
    // On the sandbox's own tmpfs: the bind mounts then show no host path in its mountinfo.
    hosts: join(dir, 'scratch', 'hosts'),
    hostname: join(dir, 'scratch', 'hostname'),
  };
}

/**
 * Mounts the sandbox's root: the template layers read-only below, and a
 * writable upper directory above on a file system of the disk limit's size:
 * a tmpfs (in memory) or, given the blanks to copy it from, an ext4 image
 * on the host's disk.
 */
export async function prepareRootfs(
  paths: SandboxPaths,
  layers: string[],
  diskMiB: number,
  hostname: string,
  blanks?: BlankLayerImages,
  spawner?: LeanSpawner,
): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o711 });
  await Promise.all([mkdir(paths.rootfs), mkdir(paths.scratch)]);
  // Asked first: reserving fills the host's disk up to the point where it fails.
  if (blanks) await checkRoomFor(paths.dir, diskMiB);
  const image = blanks ? [await blanks.of(diskMiB), paths.image] : [];
  await runHostCommand(
    mountHelperPath(),
    [paths.scratch, paths.rootfs, String(diskMiB), String(idMapping.hostId), layers.join(':'), hostRootfsMountFlags.join(','), ...image],
    { spawner },
  ).catch((err: Error) => {
    if (/reserve .*No space left/i.test(err.message)) throw noRoomFor(diskMiB);
    throw err;
  });
  await Promise.all([
    writeFile(paths.hosts, `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`, { mode: 0o644 }),
    writeFile(paths.hostname, `${hostname}\n`, { mode: 0o644 }),
  ]);
}

const noRoomFor = (diskMiB: number) =>
  new HostCapacityError(`the host's disk has no room for a writable layer of ${diskMiB} MiB`, { field: 'diskMiB', requested: diskMiB });

async function checkRoomFor(dir: string, diskMiB: number): Promise<void> {
  const free = await statfs(dir);
  if (diskMiB * 1024 * 1024 > free.bavail * free.bsize) throw noRoomFor(diskMiB);
}

/**
 * Mounts the overlay again over an existing scratch layer (after its writable
 * layer was replaced). As paddock-mount does, it names the layers by symlinks
 * in the scratch folder and gives every path relative to it: the options show
 * in the sandbox's mountinfo as given, and must name no host path.
 */
export async function remountRootfs(paths: SandboxPaths, layers: string[]): Promise<void> {
  const links = layers.map((_, i) => `l${i}`);
  await Promise.all(layers.map((layer, i) => rm(join(paths.scratch, `l${i}`), { force: true }).then(() => symlink(layer, join(paths.scratch, `l${i}`)))));
  const options = [`lowerdir=${links.join(':')}`, 'upperdir=upper', 'workdir=work', ...hostRootfsMountFlags].join(',');
  await runHostCommand('mount', ['-t', 'overlay', 'paddock-rootfs', '-o', options, paths.rootfs], { cwd: paths.scratch });
}

/**
 * Unmounts and removes everything prepareRootfs made (safe on a partial
 * setup), and `alsoUnmount` first in the same helper run.
 */
export async function releaseRootfs(paths: SandboxPaths, spawner?: LeanSpawner, alsoUnmount: string[] = []): Promise<void> {
  await unmountAll([...alsoUnmount, paths.rootfs, paths.scratch], spawner);
  await rm(paths.dir, { recursive: true, force: true });
}

/**
 * Unmounts each path in order (lazily if busy: a process that escaped death
 * holds it), skipping those not mounted, in one run of paddock-mount.
 */
export function unmountAll(paths: string[], spawner?: LeanSpawner): Promise<unknown> {
  return runHostCommand(mountHelperPath(), ['--unmount', ...paths], { spawner });
}

export async function mountPoints(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return new Set(text.split('\n').map((line) => unescapeMountPath(line.split(' ')[4] ?? '')));
}

/** Mount points strictly below a directory, in /proc order (deepest last). */
export function mountsUnder(prefix: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => unescapeMountPath(line.split(' ')[4] ?? ''))
    .filter((m) => m.startsWith(`${prefix}/`));
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
