import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { baseLayerDir, sweepStateDir } from '@paddock/engine';
import { pino } from 'pino';
import type { Clock } from '../clock/clock.js';
import { loadConfig } from '../config/daemon-config.js';
import { type RunningDaemon, startDaemon } from '../daemon.js';
import { FakeSandboxHost } from './fake-sandbox-host.js';
import type { TestDaemon } from './test-daemon.js';

// On tmpfs: every fast sandbox is a folder of links and files, and ext4's inode allocator
// (a search past recently deleted inodes) took ~6% of the tier's CPU with them in /tmp.
export const fastRootPrefix = existsSync('/dev/shm') ? '/dev/shm/paddock-fast-' : '/tmp/paddock-fast-';

/** A daemon of the fast tier: the real one, in this process, from source, over a FakeSandboxHost. */
export interface FastDaemon extends TestDaemon {
  /** What runs its sandboxes: host folders and fake agents, kept across restart(). */
  host: FakeSandboxHost;
  /** The daemon's services, for tests that look below the API. */
  running(): RunningDaemon;
}

/**
 * Starts paddockd in this process with its own state folder and a free port,
 * as startTestDaemon does with a real one: the same API, SDK and CLI reach it,
 * but no root, runtime or base template is needed. Its sandboxes are plain
 * folders and host processes: nothing here tests isolation.
 */
export async function startFastDaemon(
  extraArgs: string[] = [],
  extraEnv: NodeJS.ProcessEnv = {},
  options: { clock?: Clock; builtInDockerfiles?: Readonly<Record<string, string>>; statePrefix?: string } = {},
): Promise<FastDaemon> {
  const stateDir = await mkdtemp(options.statePrefix ?? fastRootPrefix);
  const cacheDir = `${stateDir}-cache`;
  await writeFakeBaseLayer(join(cacheDir, 'layers'));
  const config = loadConfig(['--state-dir', stateDir, '--port', '0', ...extraArgs], { PADDOCK_CACHE_DIR: cacheDir, ...extraEnv });
  const host = new FakeSandboxHost(join(stateDir, 'sandboxes'));
  const logLines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  // OpenTelemetry's exporters read their endpoints from process.env itself: this worker runs one test file.
  for (const [name, value] of Object.entries(extraEnv)) if (name.startsWith('OTEL_')) process.env[name] = value;
  let daemon: RunningDaemon | undefined;
  const launch = async () => {
    daemon = await startDaemon(config, {
      logger,
      env: extraEnv,
      sandboxHost: async () => host,
      clock: options.clock,
      builtInDockerfiles: options.builtInDockerfiles,
    });
  };
  await launch();
  const current = () => {
    if (!daemon) throw new Error('the fast daemon is stopped');
    return daemon;
  };

  const fast: FastDaemon = {
    host,
    running: current,
    stateDir,
    get url() {
      return current().url;
    },
    get token() {
      return current().token;
    },
    pid: process.pid,
    get conn() {
      return { url: current().url, token: current().token };
    },
    get env() {
      return { ...process.env, PADDOCK_URL: current().url, PADDOCK_TOKEN: current().token };
    },
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${current().token}`);
      return fetch(current().url + path, { ...init, headers });
    },
    // In one process a daemon cannot be SIGKILLed: it stops, and its sandboxes stay, as after a crash.
    async crash() {
      await current().stop();
      daemon = undefined;
    },
    async restart() {
      await launch();
    },
    log() {
      return logLines.join('');
    },
    // Its logger writes each line as it is logged.
    async logWritten() {
      return logLines.join('');
    },
    async stop() {
      if (daemon) {
        await fast.api('/v1/sandboxes', { method: 'DELETE' }).catch(() => {});
        await daemon.stop();
        daemon = undefined;
      }
      await host.destroyAll();
      // Volumes stay mounted when a daemon stops (they outlive it); run as root, the fast tier makes real ones.
      sweepStateDir(stateDir, []);
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
  return fast;
}

/** A `base` template of a few files: enough for users, /work and a shell's lookups; commands come from the host. */
async function writeFakeBaseLayer(layersDir: string): Promise<void> {
  const rootfs = baseLayerDir(layersDir);
  await Promise.all(['etc', 'work', 'tmp', 'root', 'home/user'].map((dir) => mkdir(join(rootfs, dir), { recursive: true })));
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nuser:x:1000:1000:user:/home/user:/bin/bash\n');
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nuser:x:1000:\n');
  await writeFile(join(rootfs, 'etc/os-release'), 'PRETTY_NAME="Paddock fast-tier base"\n');
  await writeFile(join(rootfs, '..', '.complete'), JSON.stringify({ builtAt: new Date().toISOString(), sizeBytes: 4096 }));
}

export type { TestDaemon } from './test-daemon.js';
