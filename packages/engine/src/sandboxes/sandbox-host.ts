import type { Limits, Tier, WritableLayer } from '@paddock/core';
import type { AgentClient } from '../agent/agent-client.js';
import type { HostMount } from '../bundle/oci-spec.js';
import type { ResourceLimits, UsageCounters } from '../cgroups/cgroup-probe.js';
import type { SandboxPaths } from '../rootfs/sandbox-rootfs.js';
import type { CallOptions, RuntimeState } from '../runtime/runtime-adapter.js';

export interface SandboxLaunch {
  id: string;
  tier: Tier;
  /** Host paths of the template's layers, top first. */
  layers: string[];
  limits: Limits;
  /** Where the writable layer lives: tmpfs (default) or an ext4 image on the host's disk. */
  writableLayer?: WritableLayer;
  /** proxy (default): out through the egress proxy only; none: loopback only. */
  network?: 'proxy' | 'none';
  /** Host paths shown inside at the same path (a gateway server's files); the caller has checked who may grant them. */
  hostMounts?: readonly HostMount[];
}

/**
 * Where a container sandbox's network namespace is found from the host, by
 * its id: `<netnsDir>/<id>/netns` when it has a network of its own, else
 * through the processes of its cgroup (`<procsDir>/<id>/cgroup.procs`, each
 * shown as `<cgroupPath>/<id>` in /proc/<pid>/cgroup).
 */
export interface NamespaceSources {
  netnsDir: string;
  procsDir: string;
  cgroupPath: string;
}

export interface LaunchedSandbox {
  /** Environment the network adds to every command. */
  networkEnv: Record<string, string>;
}

/**
 * What the daemon's services ask of the machine that runs sandboxes. The
 * SandboxEngine is the real one (rootfs, OCI runtime, network, cgroups, the
 * in-sandbox agent); the fast test tier puts an in-process stand-in behind
 * the same contract, so every layer above it runs unchanged.
 */
export interface SandboxHost {
  /** Where one sandbox's files live on the host (its agent socket among them). */
  paths(id: string): SandboxPaths;
  /** The client of the sandbox's agent, one per sandbox. */
  agent(id: string): AgentClient;
  /** The tiers this host can run. */
  tiers(): Tier[];
  /** Creates and starts a sandbox; on any failure everything made so far is removed. */
  launch(launch: SandboxLaunch, options?: CallOptions): Promise<LaunchedSandbox>;
  /** Kills every process of the sandbox and removes all it left on the host. Idempotent. */
  destroy(id: string): Promise<void>;
  /**
   * Sends SIGKILL to every process of the sandbox now, without waiting or
   * removing anything. A kill of many does this for all of them first, so
   * none runs on while it waits its turn and their deaths overlap, then
   * destroys them a few at a time.
   */
  killProcesses(id: string): Promise<void>;
  /** Stops the sandbox, keeps its writable layer at `layerDir` and removes the sandbox; returns the layer's bytes. */
  commit(id: string, layerDir: string): Promise<number>;
  /** Copies a live sandbox's writable layer to `layerDir`, the sandbox going on after; returns the layer's bytes. */
  snapshot(id: string, layerDir: string, options?: CallOptions): Promise<number>;
  /** Puts the sandbox's files back as in `layerDir` and starts it afresh (its processes do not survive). */
  rollback(id: string, layerDir: string, options?: CallOptions): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** The runtime's view of the sandbox, or null when it knows none by that id. */
  state(id: string, options?: CallOptions): Promise<RuntimeState | null>;
  /** How often the kernel killed a process of the sandbox for memory. */
  oomKills(id: string): number;
  memoryUsage(id: string): number;
  /** The sandbox's CPU, memory and pids counters, opened to be read each metrics tick; undefined when it has no cgroup (anymore). */
  openCounters(id: string): UsageCounters | undefined;
  /** The memory and pids limits the kernel enforces on the sandbox; undefined when it has no cgroup (anymore). */
  limits(id: string): ResourceLimits | undefined;
  /** Sandbox ids the host holds anything of (runtime, folder, cgroup). */
  hostSandboxIds(): Promise<Set<string>>;
  /** Where container sandboxes' network namespaces are found (ingress opens its connections there); undefined: none to enter. */
  namespaceSources?(): NamespaceSources;
  /** Tidies what all sandboxes share, once none is left. */
  releaseCgroupParent(): void;
}
