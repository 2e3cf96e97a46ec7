import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultLimits, type Limits, type Tier } from '@paddock/core';
import {
  buildOciSpec,
  CgroupProbe,
  gvisorRuntimeFlags,
  prepareRootfs,
  releaseRootfs,
  runcRunFlags,
  type SandboxPaths,
  sandboxPaths,
  sweepStateDir,
} from '@paddock/engine';
import type { Cleanup } from './cleanup.js';
import { type SpawnTiming, timedSpawn, timedSpawnOk } from './timed-spawn.js';

export interface RawRuncOptions {
  /** Bench-owned directory for the runc root and the bundles. */
  dir: string;
  baseLayer: string;
  agentBinDir: string;
  cleanup: Cleanup;
  limits?: Limits;
}

/**
 * Plain runc with bundles made by the engine's own building blocks
 * (prepareRootfs, buildOciSpec), so isolation settings are identical to a
 * Paddock sandbox; only what runs inside (and who drives runc) differs.
 */
export class RawRunc {
  readonly runcRoot: string;
  readonly runscRoot: string;
  readonly sandboxesDir: string;
  readonly cgroupParent: string;
  private readonly limits: Limits;
  private readonly probe = new CgroupProbe();

  constructor(private readonly options: RawRuncOptions) {
    this.runcRoot = join(options.dir, 'runc');
    this.runscRoot = join(options.dir, 'runsc');
    this.sandboxesDir = join(options.dir, 'sandboxes');
    this.cgroupParent = `paddock-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.limits = options.limits ?? defaultLimits;
    options.cleanup.add('remove raw runc containers, bundles, cgroups', () => {
      sweepStateDir(options.dir, [
        { binary: 'runc', root: this.runcRoot },
        { binary: 'runsc', root: this.runscRoot },
      ]);
      new CgroupProbe().removeParent(this.cgroupParent);
    });
  }

  async init(): Promise<void> {
    await mkdir(this.runcRoot, { recursive: true });
    await mkdir(this.runscRoot, { recursive: true });
    await mkdir(this.sandboxesDir, { recursive: true, mode: 0o711 });
  }

  paths(id: string): SandboxPaths {
    return sandboxPaths(this.sandboxesDir, id);
  }

  cgroupsPath(id: string): string {
    return `/${this.cgroupParent}/${id}`;
  }

  /** Overlay over the base layer on a size-limited tmpfs, exactly as a sandbox gets it. */
  async prepareRootfs(id: string): Promise<SandboxPaths> {
    const paths = this.paths(id);
    await prepareRootfs(paths, [this.options.baseLayer], this.limits.diskMiB, id);
    return paths;
  }

  /** Writes config.json; args replaces the init process (default: Paddock's tini + agent). */
  async writeSpec(id: string, paths: SandboxPaths, args?: string[], tier: Tier = 'container'): Promise<void> {
    const spec = buildOciSpec({
      id,
      tier,
      hostname: id,
      limits: this.limits,
      cgroupsPath: this.cgroupsPath(id),
      agentBinDir: this.options.agentBinDir,
      agentRunDir: paths.runDir,
      etcFiles: { hosts: paths.hosts, hostname: paths.hostname },
      swapAccounting: this.probe.swapAccounting,
      gvisorPreloadFile: join(this.options.agentBinDir, 'gvisor-ld.so.preload'),
    });
    if (args) spec.process.args = args;
    await writeFile(join(paths.dir, 'config.json'), JSON.stringify(spec));
  }

  /** `runc run` in the foreground with its stdout piped to us. */
  run(id: string, bundleDir: string): Promise<SpawnTiming> {
    return timedSpawn('runc', ['--root', this.runcRoot, 'run', ...runcRunFlags, '--bundle', bundleDir, id]);
  }

  /** `runsc run` in the foreground, with the gVisor tier's flags, its stdout piped to us. */
  runRunsc(id: string, bundleDir: string): Promise<SpawnTiming> {
    return timedSpawn('runsc', [...gvisorRuntimeFlags, '--root', this.runscRoot, 'run', '--bundle', bundleDir, id]);
  }

  runscDetached(id: string, bundleDir: string): Promise<SpawnTiming> {
    return timedSpawnOk('runsc', [...gvisorRuntimeFlags, '--root', this.runscRoot, 'run', '--detach', '--bundle', bundleDir, id], { settleOnExit: true });
  }

  async deleteRunsc(id: string): Promise<void> {
    await timedSpawn('runsc', ['--root', this.runscRoot, 'delete', '--force', id]);
  }

  runDetached(id: string, bundleDir: string): Promise<SpawnTiming> {
    return timedSpawnOk('runc', ['--root', this.runcRoot, 'run', ...runcRunFlags, '--detach', '--bundle', bundleDir, id], { settleOnExit: true });
  }

  /** `runc delete`; a foreground `runc run` has usually removed the container already, which is not an error here. */
  async delete(id: string, force = false): Promise<SpawnTiming> {
    const r = await timedSpawn('runc', ['--root', this.runcRoot, 'delete', ...(force ? ['--force'] : []), id]);
    if (r.code !== 0 && !/does not exist|not found/i.test(r.stderr)) throw new Error(`runc delete ${id}: ${r.stderr.trim()}`);
    return r;
  }

  release(paths: SandboxPaths): Promise<void> {
    return releaseRootfs(paths);
  }
}
