import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CgroupProbe } from '@paddock/engine';
import type { Cleanup } from './cleanup.js';
import { checkedSpawn, PeerUnavailable, type PeerWay, peerCommand } from './peer-way.js';
import { sleep, timedSpawn, timedSpawnOk } from './timed-spawn.js';

// Debian's docker.io, by full path: another `docker` client may come first on PATH.
const dockerd = '/usr/sbin/dockerd';
const docker = '/usr/bin/docker';
export const peerImage = 'paddock-bench-base:peers';

/**
 * Paths outside its data and exec roots that dockerd 20.10 (and the containerd
 * it starts) make whatever their flags say: the libtrust key, the plugin
 * folder, the shims' socket folder. Those that did not exist before are removed after.
 */
const dockerHostPaths = ['/etc/docker/key.json', '/run/docker', '/run/containerd'];

export interface DockerPeerOptions {
  dir: string;
  /** A tar of the base rootfs, imported as the image every run uses. */
  imageTar: string;
  cgroupParent: string;
  cleanup: Cleanup;
  progress: (line: string) => void;
}

/**
 * A dockerd of our own: its socket, data root and exec root under `dir`, no
 * bridge and no iptables rules (the host's network is left alone), containers
 * in their own cgroup parent. It is stopped and everything it made is removed
 * by the cleanup, on success, failure or Ctrl-C alike.
 */
export async function startDockerPeer(options: DockerPeerOptions): Promise<PeerWay> {
  for (const bin of [dockerd, docker]) if (!existsSync(bin)) throw new PeerUnavailable(`${bin} is missing (make test-deps installs docker.io)`);
  const { dir, cleanup } = options;
  await mkdir(join(dir, 'client'), { recursive: true });
  const socket = join(dir, 'docker.sock');
  const configFile = join(dir, 'daemon.json');
  // An empty config file of our own, so a host's /etc/docker/daemon.json changes nothing here.
  await writeFile(configFile, '{}\n');
  const logFile = join(dir, 'dockerd.log');
  const createdHere = dockerHostPaths.filter((p) => !existsSync(p));
  const args = [
    '--host',
    `unix://${socket}`,
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'dockerd.pid'),
    '--config-file',
    configFile,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--cgroup-parent',
    `/${options.cgroupParent}`,
  ];
  // Its own process group: a Ctrl-C reaches the bench, which stops dockerd in order.
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(dockerd, args, { stdio: ['ignore', log, log], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const logTail = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' ') : '');
  cleanup.add('remove what dockerd made outside its folders, and its cgroup parent', () => {
    for (const p of createdHere) rmSync(p, { recursive: true, force: true });
    new CgroupProbe().removeParent(options.cgroupParent);
  });
  cleanup.add('stop dockerd', async () => {
    if (!alive()) return;
    child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
    if (!stopped) {
      console.error('cleanup: dockerd ignored SIGTERM for 30 s; killing it');
      child.kill('SIGKILL');
      await exited;
    }
  });

  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'client') };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!alive()) throw new PeerUnavailable(`dockerd exited (${child.exitCode ?? child.signalCode}) on start: ${logTail()}`);
    if (existsSync(socket) && (await timedSpawn(docker, ['version'], { env, timeoutMs: 10_000 })).code === 0) break;
    if (Date.now() > deadline) throw new PeerUnavailable(`dockerd did not answer within 60 s: ${logTail()}`);
    await sleep(100);
  }
  options.progress('  dockerd is up; importing the base rootfs as an image …');
  await timedSpawnOk(docker, ['import', options.imageTar, peerImage], { env, timeoutMs: 10 * 60_000 });
  return {
    key: 'docker',
    run: async () => checkedSpawn('docker run', await timedSpawn(docker, ['run', '--rm', '--network', 'none', peerImage, ...peerCommand], { env })),
  };
}
