import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CgroupProbe } from '@paddock/engine';
import type { Cleanup } from './cleanup.js';
import { peerImage } from './docker-peer.js';
import { checkedSpawn, PeerUnavailable, type PeerWay, peerCommand } from './peer-way.js';
import { timedSpawn, timedSpawnOk } from './timed-spawn.js';

const podman = '/usr/bin/podman';

export interface PodmanPeerOptions {
  dir: string;
  imageTar: string;
  cgroupParent: string;
  cleanup: Cleanup;
}

/** A hard limit of this process from /proc/self/limits ("Max open files", "Max processes"). */
function hardLimit(name: string): number | null {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(name));
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  return hard && /^\d+$/.test(hard) ? Number(hard) : null;
}

/**
 * Run as root, podman asks runc for nofile 1048576 and nproc 4194304 in every
 * container; raising a hard limit takes CAP_SYS_RESOURCE, which a machine may
 * withhold (this one does), and then every run fails with "error setting
 * rlimits". So each run asks for the limits podman's own processes have: the
 * bench's hard limits, nproc capped at kernel.pid_max as podman caps its own.
 */
function ulimitArgs(): string[] {
  const args: string[] = [];
  const nofile = hardLimit('Max open files');
  if (nofile !== null) args.push('--ulimit', `nofile=${nofile}:${nofile}`);
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
  const nproc = Math.min(hardLimit('Max processes') ?? pidMax, pidMax);
  if (Number.isFinite(nproc)) args.push('--ulimit', `nproc=${nproc}:${nproc}`);
  return args;
}

/**
 * Podman with every folder of its own under `dir` (storage, run state, its
 * temporary folder, network configuration), cgroupfs in a cgroup parent of
 * ours, runc as the runtime (the one Docker and Paddock use), events to a file.
 */
export async function startPodmanPeer(options: PodmanPeerOptions): Promise<PeerWay> {
  if (!existsSync(podman)) throw new PeerUnavailable(`${podman} is missing (make test-deps installs podman)`);
  const { dir } = options;
  await mkdir(dir, { recursive: true });
  const global = [
    '--root',
    join(dir, 'root'),
    '--runroot',
    join(dir, 'run'),
    '--tmpdir',
    join(dir, 'tmp'),
    '--network-config-dir',
    join(dir, 'networks'),
    '--storage-driver',
    'overlay',
    '--cgroup-manager',
    'cgroupfs',
    '--runtime',
    'runc',
    '--events-backend',
    'file',
  ];
  options.cleanup.add("remove podman's cgroup parent", () => new CgroupProbe().removeParent(options.cgroupParent));
  await timedSpawnOk(podman, [...global, 'import', '--quiet', options.imageTar, peerImage], { timeoutMs: 10 * 60_000 });
  const run = [...global, 'run', '--rm', '--network', 'none', '--cgroup-parent', `/${options.cgroupParent}`, ...ulimitArgs(), peerImage, ...peerCommand];
  return {
    key: 'podman',
    run: async () => checkedSpawn('podman run', await timedSpawn(podman, run)),
  };
}
