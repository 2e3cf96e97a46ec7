import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BadRequestError, ConflictError, NotFoundError, type Tier } from '@paddock/core';
import {
  AgentClient,
  type CallOptions,
  type HostMount,
  type LaunchedSandbox,
  type ResourceLimits,
  type RuntimeState,
  type SandboxHost,
  type SandboxLaunch,
  type SandboxPaths,
  sandboxPaths,
  type UsageCounters,
} from '@paddock/engine';
import { FakeAgent } from './fake-agent.js';

const run = promisify(execFile);

interface FakeSandbox {
  tier: Tier;
  agent: FakeAgent;
  status: 'running' | 'paused';
}

/**
 * The fast test tier's sandbox host: a sandbox is a folder (its template's
 * layers copied in, top last) and a FakeAgent on the usual socket. It needs
 * no root, runtime or base template, and outlives a daemon that stops, so a
 * test can restart the daemon and watch it adopt what it left.
 */
export class FakeSandboxHost implements SandboxHost {
  private readonly sandboxes = new Map<string, FakeSandbox>();
  private readonly clients = new Map<string, AgentClient>();
  private readonly mounts = new Map<string, readonly HostMount[]>();
  /** Set by holdCopies(): each copy of a sandbox's files waits on it first. */
  private copyGate: (() => Promise<void>) | undefined;
  /** Every launch, for tests that assert what the daemon asked for. */
  readonly launches: SandboxLaunch[] = [];

  constructor(
    private readonly sandboxesDir: string,
    private readonly availableTiers: Tier[] = ['container', 'gvisor'],
  ) {}

  paths(id: string): SandboxPaths {
    return sandboxPaths(this.sandboxesDir, id);
  }

  agent(id: string): AgentClient {
    let client = this.clients.get(id);
    if (!client) {
      client = new AgentClient(this.paths(id).socket, id);
      this.clients.set(id, client);
    }
    return client;
  }

  tiers(): Tier[] {
    return [...this.availableTiers];
  }

  async launch(launch: SandboxLaunch, options: CallOptions = {}): Promise<LaunchedSandbox> {
    if (!this.availableTiers.includes(launch.tier)) {
      throw new BadRequestError(`the ${launch.tier} tier is not available on this host`, { tier: launch.tier }, 'tier_unavailable');
    }
    this.launches.push(launch);
    const paths = this.paths(launch.id);
    try {
      await mkdir(paths.rootfs, { recursive: true });
      const bottomFirst = [...launch.layers].reverse();
      for (const [i, layer] of bottomFirst.entries()) await copyLayer(layer, paths.rootfs, i === 0);
      await writeFile(join(paths.dir, 'layers.json'), JSON.stringify(launch.layers));
      options.signal?.throwIfAborted();
      const agent = new FakeAgent(paths.rootfs, paths.socket, launch.id, launch.hostMounts);
      this.mounts.set(launch.id, launch.hostMounts ?? []);
      await agent.start();
      this.sandboxes.set(launch.id, { tier: launch.tier, agent, status: 'running' });
      return { networkEnv: {} };
    } catch (err) {
      await this.destroy(launch.id).catch(() => {});
      throw err;
    }
  }

  async destroy(id: string): Promise<void> {
    this.clients.delete(id);
    const sandbox = this.sandboxes.get(id);
    this.sandboxes.delete(id);
    this.mounts.delete(id);
    if (sandbox?.status === 'paused') this.signalAll(sandbox, 'SIGCONT');
    await sandbox?.agent.stop();
    await rm(this.paths(id).dir, { recursive: true, force: true });
  }

  async killProcesses(id: string): Promise<void> {
    const sandbox = this.sandboxes.get(id);
    if (sandbox) this.signalAll(sandbox, 'SIGKILL');
  }

  async commit(id: string, layerDir: string): Promise<number> {
    await this.sandboxes.get(id)?.agent.stop();
    try {
      return await this.copyRoot(id, layerDir);
    } finally {
      await this.destroy(id);
    }
  }

  /**
   * Holds every copy of a sandbox's files (checkpoints, snapshots, forks) at
   * its start until `release()`: a test can act while one is under way.
   * `copying()` says whether one has started since.
   */
  holdCopies(): { copying: () => boolean; release: () => void } {
    let started = false;
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.copyGate = async () => {
      started = true;
      await held;
    };
    return {
      copying: () => started,
      release: () => {
        this.copyGate = undefined;
        release();
      },
    };
  }

  async snapshot(id: string, layerDir: string): Promise<number> {
    await this.copyGate?.();
    const sandbox = this.require(id);
    if (sandbox.status === 'paused' && sandbox.tier !== 'container') {
      throw new ConflictError(`sandbox ${id} is paused: resume it before copying its files`, { id }, 'sandbox_paused');
    }
    return this.copyRoot(id, layerDir);
  }

  async rollback(id: string, layerDir: string): Promise<void> {
    const sandbox = this.require(id);
    const paths = this.paths(id);
    await sandbox.agent.stop();
    await rm(paths.rootfs, { recursive: true, force: true });
    const layers = JSON.parse(await readFile(join(paths.dir, 'layers.json'), 'utf8')) as string[];
    await mkdir(paths.rootfs, { recursive: true });
    for (const [i, layer] of [...layers].reverse().entries()) await copyLayer(layer, paths.rootfs, i === 0);
    await copyLayer(layerDir, paths.rootfs, false);
    sandbox.agent = new FakeAgent(paths.rootfs, paths.socket, id, this.mounts.get(id));
    sandbox.status = 'running';
    await sandbox.agent.start();
  }

  async pause(id: string): Promise<void> {
    const sandbox = this.require(id);
    this.signalAll(sandbox, 'SIGSTOP');
    sandbox.status = 'paused';
  }

  async resume(id: string): Promise<void> {
    const sandbox = this.require(id);
    this.signalAll(sandbox, 'SIGCONT');
    sandbox.status = 'running';
  }

  async state(id: string): Promise<RuntimeState | null> {
    const sandbox = this.sandboxes.get(id);
    if (!sandbox) return null;
    return { id, status: sandbox.status, pid: process.pid, bundle: this.paths(id).dir };
  }

  oomKills(): number {
    return 0;
  }

  memoryUsage(): number {
    return 0;
  }

  /** No cgroup here: a running sandbox reads as idle and unlimited, so the metrics' shapes can be tested. */
  openCounters(id: string): UsageCounters | undefined {
    if (!this.sandboxes.has(id)) return undefined;
    return { read: () => (this.sandboxes.has(id) ? { cpuUsageUsec: 0, memoryBytes: 0, pids: 1 } : undefined), close: () => {} };
  }

  limits(id: string): ResourceLimits | undefined {
    return this.sandboxes.has(id) ? { memoryLimitBytes: null, pidsLimit: null } : undefined;
  }

  async hostSandboxIds(): Promise<Set<string>> {
    await mkdir(this.sandboxesDir, { recursive: true });
    return new Set([...this.sandboxes.keys(), ...(await readdir(this.sandboxesDir))]);
  }

  releaseCgroupParent(): void {}

  /** Kills every sandbox, as a host that reboots. */
  async destroyAll(): Promise<void> {
    for (const id of [...this.sandboxes.keys()]) await this.destroy(id);
  }

  private require(id: string): FakeSandbox {
    const sandbox = this.sandboxes.get(id);
    if (!sandbox) throw new NotFoundError(`sandbox ${id} is not running`, { id });
    return sandbox;
  }

  private signalAll(sandbox: FakeSandbox, signal: NodeJS.Signals): void {
    for (const pid of sandbox.agent.commandPids()) {
      try {
        process.kill(-pid, signal);
      } catch {}
    }
  }

  private async copyRoot(id: string, layerDir: string): Promise<number> {
    await mkdir(layerDir, { recursive: true });
    await cp(this.paths(id).rootfs, layerDir, { recursive: true, force: true, verbatimSymlinks: true });
    return treeSize(layerDir);
  }
}

async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return total;
}

/**
 * Copies a layer over a root folder, an upper layer's entry replacing a
 * lower one's. cp(1), not fs.cp, over another layer: fs.cp refuses to replace
 * a symlink with one to the same target (each layer a step captures holds the
 * sandbox's links to host /etc files). The bottom layer goes into an empty
 * folder, where fs.cp replaces nothing and saves a process (most sandboxes
 * have one layer: 500 of them are 500 fewer forks of a large test process).
 */
async function copyLayer(layer: string, rootfs: string, intoEmpty: boolean): Promise<void> {
  if (intoEmpty) await cp(layer, rootfs, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  else await run('cp', ['-a', '--remove-destination', `${layer}/.`, rootfs]);
}
