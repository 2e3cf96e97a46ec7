import { type FSWatcher, watch } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Tier } from '@paddock/core';
import { BadRequestError, ConflictError, RuntimeError } from '@paddock/core';
import { AgentClient } from '../agent/agent-client.js';
import { idMapping } from '../bundle/isolation-settings.js';
import { buildOciSpec } from '../bundle/oci-spec.js';
import type { CgroupProbe, ResourceLimits, UsageCounters } from '../cgroups/cgroup-probe.js';
import type { LeanSpawner } from '../host/lean-spawner.js';
import { runHostCommand } from '../host/run-host-command.js';
import type { NetworkProvider } from '../network/network-provider.js';
import { BlankLayerImages } from '../rootfs/blank-layer-images.js';
import { prepareRootfs, releaseRootfs, remountRootfs, type SandboxPaths, sandboxPaths } from '../rootfs/sandbox-rootfs.js';
import type { CallOptions, RuntimeAdapter, RuntimeState } from '../runtime/runtime-adapter.js';
import type { LaunchedSandbox, NamespaceSources, SandboxHost, SandboxLaunch } from './sandbox-host.js';

export interface SandboxEngineOptions {
  /** Holds one directory per sandbox (bundle, mounts, agent socket). */
  sandboxesDir: string;
  agentBinDir: string;
  /** One runtime per tier this host can run; a tier without one is refused. */
  runtimes: Partial<Record<Tier, RuntimeAdapter>>;
  network: NetworkProvider;
  cgroups: CgroupProbe;
  /** cgroup parent for every sandbox of this engine. */
  cgroupParent: string;
  /** How long a new sandbox's agent may take to answer. */
  readyTimeoutMs?: number;
  /** Holds the empty file systems disk-backed writable layers are copied from; default `layer-blanks` beside sandboxesDir. */
  layerBlanksDir?: string;
  /** Per tier, syscalls a test build lets through the seccomp filter (PADDOCK_TEST_WEAKEN); none in production. */
  testSeccompAllowed?: Partial<Record<Tier, readonly string[]>>;
  /** Starts mount helpers from a small process, not the daemon's (see LeanSpawner). */
  spawner?: LeanSpawner;
}

/**
 * Writes files the sandbox sees read-only (resolv.conf, its CA store) onto
 * its scratch tmpfs, where the bind mounts show no host path; returns them as
 * sandbox path → host path.
 */
async function writeSandboxFiles(paths: SandboxPaths, files: Record<string, string>): Promise<Record<string, string>> {
  const entries = Object.entries(files);
  if (!entries.length) return {};
  const dir = join(paths.scratch, 'files');
  await mkdir(dir, { mode: 0o755 });
  const written = await Promise.all(
    entries.map(async ([destination, contents]) => {
      const source = join(dir, destination.replace(/^\/+/, '').replaceAll('/', '_'));
      await writeFile(source, contents, { mode: 0o644 });
      return [destination, source] as const;
    }),
  );
  return Object.fromEntries(written);
}

/**
 * The root's /tmp on the host, made (as the sandbox's root, sticky and
 * world-writable) when the template has none. Not when the template has
 * something else there (a symlink the bind would follow out of the root).
 */
async function layerTmpDir(paths: SandboxPaths): Promise<string | undefined> {
  const dir = join(paths.rootfs, 'tmp');
  const found = await lstat(dir).catch(() => undefined);
  if (found && !found.isDirectory()) return undefined;
  if (!found) {
    await mkdir(dir, { mode: 0o1777 });
    await chown(dir, idMapping.hostId, idMapping.hostId);
    await chmod(dir, 0o1777);
  }
  return dir;
}

/** Names the sandbox's tier inside its folder, so a restarted daemon finds the right runtime. */
const tierFile = 'tier';
/** The sandbox's template layers (top first), to mount its root again on a rollback. */
const layersFile = 'layers.json';

/**
 * Turns a sandbox request into a running runtime container and back: rootfs,
 * bundle, network, runtime, agent. It keeps no state of its own beyond the
 * host (directories, mounts, the runtime's list), so a restarted daemon can
 * rebuild its picture from what is really there.
 */
export class SandboxEngine implements SandboxHost {
  private readonly agents = new Map<string, AgentClient>();
  private readonly blanks: BlankLayerImages;

  constructor(private readonly options: SandboxEngineOptions) {
    this.blanks = new BlankLayerImages(options.layerBlanksDir ?? join(options.sandboxesDir, '..', 'layer-blanks'));
  }

  paths(id: string): SandboxPaths {
    return sandboxPaths(this.options.sandboxesDir, id);
  }

  namespaceSources(): NamespaceSources {
    const cgroupPath = `/${this.options.cgroupParent}`;
    return { netnsDir: this.options.sandboxesDir, procsDir: this.options.cgroups.processesDir(cgroupPath), cgroupPath };
  }

  cgroupsPath(id: string): string {
    return `/${this.options.cgroupParent}/${id}`;
  }

  agent(id: string): AgentClient {
    let client = this.agents.get(id);
    if (!client) {
      client = new AgentClient(this.paths(id).socket, id);
      this.agents.set(id, client);
    }
    return client;
  }

  /** The tiers this host can run. */
  tiers(): Tier[] {
    return Object.keys(this.options.runtimes) as Tier[];
  }

  /** Creates and starts a sandbox; on any failure everything made so far is removed. */
  async launch(launch: SandboxLaunch, options: CallOptions = {}): Promise<LaunchedSandbox> {
    const runtime = this.options.runtimes[launch.tier];
    if (!runtime) throw new BadRequestError(`the ${launch.tier} tier is not available on this host`, { tier: launch.tier }, 'tier_unavailable');
    const paths = this.paths(launch.id);
    try {
      // Both settle before anything is undone: a rootfs refused at once (no room on the disk) must not leave an
      // attach still running, which would make the sandbox's network and files after destroy() removed them.
      const [attached, prepared] = await Promise.allSettled([
        this.options.network.attach({ id: launch.id, tier: launch.tier, mode: launch.network ?? 'proxy', layers: launch.layers }),
        prepareRootfs(paths, launch.layers, launch.limits.diskMiB, launch.id, launch.writableLayer === 'disk' ? this.blanks : undefined, this.options.spawner),
      ]);
      if (prepared.status === 'rejected') throw prepared.reason;
      if (attached.status === 'rejected') throw attached.reason;
      const attachment = attached.value;
      const files = await writeSandboxFiles(paths, attachment.files ?? {});
      const gvisorTmpDir = launch.tier === 'gvisor' && launch.writableLayer === 'disk' ? await layerTmpDir(paths) : undefined;
      await attachment.beforeStart?.(paths.runDir);
      const spec = buildOciSpec({
        id: launch.id,
        tier: launch.tier,
        hostname: launch.id,
        limits: launch.limits,
        cgroupsPath: this.cgroupsPath(launch.id),
        agentBinDir: this.options.agentBinDir,
        agentRunDir: paths.runDir,
        etcFiles: { hosts: paths.hosts, hostname: paths.hostname },
        netnsPath: attachment.netnsPath,
        sysfsPath: attachment.sysfsPath,
        files,
        hostMounts: launch.hostMounts,
        egress: attachment.egress ?? false,
        swapAccounting: this.options.cgroups.swapAccounting,
        gvisorPreloadFile: join(this.options.agentBinDir, 'gvisor-ld.so.preload'),
        gvisorTmpDir,
        testSeccompAllowed: this.options.testSeccompAllowed?.[launch.tier],
      });
      await Promise.all([
        writeFile(join(paths.dir, 'config.json'), JSON.stringify(spec)),
        writeFile(join(paths.dir, tierFile), launch.tier),
        writeFile(join(paths.dir, layersFile), JSON.stringify(launch.layers)),
      ]);
      await runtime.run(launch.id, paths.dir, options);
      await this.waitForAgent(launch.id, options);
      return { networkEnv: attachment.env ?? {} };
    } catch (err) {
      await this.destroy(launch.id).catch(() => {});
      throw err;
    }
  }

  /** Kills every process of the sandbox and removes all it left on the host. Idempotent. */
  async destroy(id: string): Promise<void> {
    this.forgetAgent(id);
    // Every step runs even if one before it failed, so one stuck part does not leave the others behind.
    const runtimes = await this.runtimesOf(id);
    const killCgroup = () => this.options.cgroups.killAndRemove(this.cgroupsPath(id));
    const [only] = runtimes;
    // A runtime whose sandbox ends with its cgroup's processes is only asked to forget it: one run of it, not three.
    const stop =
      runtimes.length === 1 && only?.endsWithItsCgroup
        ? [killCgroup, () => only.delete(id, { force: true, killed: true })]
        : [...runtimes.map((runtime) => () => runtime.delete(id, { force: true })), killCgroup];
    // The network's mounts go in the same helper run as the root's; detach is told whether that worked.
    const networkMounts = this.options.network.mountsOf?.(id) ?? [];
    let unmounted = false;
    const release = async () => {
      await releaseRootfs(this.paths(id), this.options.spawner, networkMounts);
      unmounted = true;
    };
    const steps = [...stop, release, () => this.options.network.detach(id, { unmounted })];
    const failures: unknown[] = [];
    for (const step of steps) await step().catch((err: unknown) => failures.push(err));
    // Again: a call made while the steps ran asked for a client anew.
    this.forgetAgent(id);
    if (failures.length) throw failures[0];
  }

  async killProcesses(id: string): Promise<void> {
    // Every process of either tier is in the sandbox's cgroup (gVisor's sentry and gofer too); its destroy asks the runtime afterwards.
    this.options.cgroups.killProcessesIn(this.cgroupsPath(id));
  }

  private forgetAgent(id: string): void {
    this.agents.get(id)?.close();
    this.agents.delete(id);
  }

  /**
   * Stops the sandbox and keeps its writable layer as a new read-only layer at
   * `layerDir` (a template build's result), then removes the sandbox.
   * Returns the layer's size in bytes.
   */
  async commit(id: string, layerDir: string): Promise<number> {
    for (const runtime of await this.runtimesOf(id)) await runtime.delete(id, { force: true });
    try {
      return await this.copyWritableLayer(id, layerDir);
    } finally {
      await this.destroy(id);
    }
  }

  /**
   * Copies a live sandbox's writable layer into `layerDir` as a new read-only
   * layer, the sandbox frozen meanwhile so the copy is consistent; it then
   * goes on where it was. Returns the layer's size in bytes.
   */
  async snapshot(id: string, layerDir: string, options: CallOptions = {}): Promise<number> {
    const runtime = await this.runtimeOf(id);
    const running = (await runtime.state(id, options))?.status === 'running';
    if (!running && runtime !== this.options.runtimes.container) {
      // gVisor may still hold writes in its own kernel, which only a running sandbox can sync.
      throw new ConflictError(`sandbox ${id} is paused: resume it before copying its files`, { id }, 'sandbox_paused');
    }
    if (running) {
      // gVisor keeps writes in its own kernel until they are synced to the gofer.
      await this.syncInside(id, options);
      await runtime.pause(id, options);
    }
    try {
      return await this.copyWritableLayer(id, layerDir, options.signal);
    } finally {
      // Not with the caller's signal: a client that left must not leave the sandbox frozen.
      if (running) await runtime.resume(id, { timeoutMs: options.timeoutMs }).catch(() => {});
    }
  }

  /**
   * Copies a sandbox's writable layer into `layerDir` (its parent folder is
   * the layer's own, removed again if the copy fails); returns its size.
   */
  private async copyWritableLayer(id: string, layerDir: string, signal?: AbortSignal): Promise<number> {
    try {
      await mkdir(layerDir, { recursive: true });
      // cp -a keeps overlay whiteouts (0/0 devices), opaque-dir xattrs, owners and modes.
      await runHostCommand('cp', ['-a', '--', `${this.paths(id).upper}/.`, layerDir], { timeoutMs: 10 * 60_000, signal });
      // Mount points runc made for Paddock's own files are no part of a layer.
      await rm(join(layerDir, '.paddock'), { recursive: true, force: true });
      const { stdout } = await runHostCommand('du', ['-sb', layerDir]);
      return Number(stdout.split('\t')[0]) || 0;
    } catch (err) {
      await rm(join(layerDir, '..'), { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Puts the sandbox's files back exactly as in `layerDir` (a snapshot of its
   * own writable layer): the sandbox is stopped, its writable layer replaced
   * and its root mounted again, then it starts afresh. Its processes do not
   * survive; its id, limits, network and hostname do.
   */
  async rollback(id: string, layerDir: string, options: CallOptions = {}): Promise<void> {
    const paths = this.paths(id);
    const runtime = await this.runtimeOf(id);
    const layers = JSON.parse(await readFile(join(paths.dir, layersFile), 'utf8')) as string[];
    // From here on nothing is cancelled: half a rollback is worse than a slow one.
    const untilDone = { timeoutMs: options.timeoutMs };
    await runtime.delete(id, { force: true });
    await this.options.cgroups.killAndRemove(this.cgroupsPath(id));
    await runHostCommand('umount', [paths.rootfs]);
    await Promise.all([rm(paths.upper, { recursive: true, force: true }), rm(paths.work, { recursive: true, force: true })]);
    await mkdir(paths.work, { mode: 0o755 });
    await runHostCommand('cp', ['-a', '--', layerDir, paths.upper], { timeoutMs: 10 * 60_000 });
    await remountRootfs(paths, layers);
    await runtime.run(id, paths.dir, untilDone);
    await this.waitForAgent(id, untilDone);
  }

  private async syncInside(id: string, options: CallOptions): Promise<void> {
    const session = await this.agent(id).exec({ cmd: ['sync'], env: [] }, {}, { timeoutMs: options.timeoutMs ?? 30_000, signal: options.signal });
    session.closeStdin();
    await session.exited;
  }

  /** Tidies the host when the engine stops with no sandbox left. */
  releaseCgroupParent(): void {
    this.options.cgroups.removeParent(this.options.cgroupParent);
  }

  async pause(id: string): Promise<void> {
    await (await this.runtimeOf(id)).pause(id);
  }

  async resume(id: string): Promise<void> {
    await (await this.runtimeOf(id)).resume(id);
  }

  async state(id: string, options: CallOptions = {}): Promise<RuntimeState | null> {
    for (const runtime of await this.runtimesOf(id)) {
      const state = await runtime.state(id, options);
      if (state) return state;
    }
    return null;
  }

  oomKills(id: string): number {
    return this.options.cgroups.oomKills(this.cgroupsPath(id));
  }

  memoryUsage(id: string): number {
    return this.options.cgroups.memoryUsage(this.cgroupsPath(id));
  }

  openCounters(id: string): UsageCounters | undefined {
    return this.options.cgroups.openCounters(this.cgroupsPath(id));
  }

  limits(id: string): ResourceLimits | undefined {
    return this.options.cgroups.limits(this.cgroupsPath(id));
  }

  /** Sandbox ids that exist on the host: in the runtime, as a directory, or as a cgroup. */
  async hostSandboxIds(): Promise<Set<string>> {
    await mkdir(this.options.sandboxesDir, { recursive: true });
    const runtimes = Object.values(this.options.runtimes);
    const [states, dirs] = await Promise.all([Promise.all(runtimes.map((r) => r.list())), readdir(this.options.sandboxesDir)]);
    // Dot-folders are the host's own (spare network namespaces), never a sandbox's: no sandbox id starts with a dot.
    const sandboxDirs = dirs.filter((name) => !name.startsWith('.'));
    return new Set([...states.flat().map((s) => s.id), ...sandboxDirs, ...this.options.cgroups.children(this.options.cgroupParent)]);
  }

  /**
   * The runtime that runs a sandbox, as written in its folder at launch; a
   * stray whose folder is gone may be in any of them.
   */
  private async runtimesOf(id: string): Promise<RuntimeAdapter[]> {
    const tier = (await readFile(join(this.paths(id).dir, tierFile), 'utf8').catch(() => '')) as Tier;
    const runtime = this.options.runtimes[tier];
    return runtime ? [runtime] : Object.values(this.options.runtimes);
  }

  private async runtimeOf(id: string): Promise<RuntimeAdapter> {
    const [runtime] = await this.runtimesOf(id);
    if (!runtime) throw new RuntimeError(`no runtime for sandbox ${id}`);
    return runtime;
  }

  private async waitForAgent(id: string, options: CallOptions): Promise<void> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 10_000);
    const agent = this.agent(id);
    // The agent is up within a few ms of runc returning, a few tens under gVisor: look when its socket
    // appears, and often for a while besides (a refused connect costs microseconds), then back off.
    const appeared = watchFor(this.paths(id).socket);
    try {
      for (let attempt = 0; ; attempt++) {
        const delay = attempt < 100 ? 1 : 20;
        options.signal?.throwIfAborted();
        try {
          await agent.ping({ timeoutMs: 2000 });
          return;
        } catch (err) {
          if (Date.now() > deadline) {
            throw new RuntimeError(`sandbox ${id} did not start: its agent never answered`, { cause: String(err) });
          }
          await appeared.within(delay);
        }
      }
    } finally {
      appeared.close();
    }
  }
}

/**
 * Waits that end early when a file appears at `path` (made, or renamed into
 * place as the agent does its socket): an inotify watch on its folder. A
 * folder that cannot be watched leaves the waits their full length.
 */
function watchFor(path: string): { within(ms: number): Promise<void>; close(): void } {
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, name) => {
      if (name === basename(path)) wake?.();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // polling alone
  }
  return {
    within: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      }),
    close: () => watcher?.close(),
  };
}
