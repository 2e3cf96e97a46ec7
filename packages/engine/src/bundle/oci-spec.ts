import type { Limits, Tier } from '@paddock/core';
import {
  agentPaths,
  gvisorPidsHeadroom,
  idMapping,
  maskedPaths,
  oomScoreAdj,
  readonlyPaths,
  rlimits,
  sandboxCapabilities,
  shmSizeMiB,
} from './isolation-settings.js';
import { type SeccompProfile, seccompProfileFor } from './seccomp-profile.js';

export interface BundleSpecInput {
  id: string;
  tier: Tier;
  hostname: string;
  limits: Limits;
  /** cgroup path relative to each hierarchy's root, e.g. /paddock/sb-… */
  cgroupsPath: string;
  /** Host directory holding tini and the agent, bind-mounted read-only. */
  agentBinDir: string;
  /** Per-sandbox host directory where the agent creates its socket. */
  agentRunDir: string;
  /** Per-sandbox host files bind-mounted over /etc/hosts and /etc/hostname. */
  etcFiles: { hosts: string; hostname: string };
  /** An existing network namespace to join; absent means a fresh one with loopback only. */
  netnsPath?: string;
  /** A sysfs of that namespace to bind over /sys, instead of mounting one. */
  sysfsPath?: string;
  /** Host files bind-mounted read-only: sandbox path → host path (resolv.conf …). */
  files?: Record<string, string>;
  /** Host folders or files an operator gave the sandbox, at the same path inside. */
  hostMounts?: readonly HostMount[];
  /** Whether the agent starts the egress relay. */
  egress?: boolean;
  /** Whether the kernel offers memory+swap accounting (memory.memsw.*). */
  swapAccounting: boolean;
  /** gVisor tier: a host file bind-mounted over /etc/ld.so.preload that loads the compatibility shim. */
  gvisorPreloadFile?: string;
  /**
   * gVisor tier: the host path of the root's own /tmp, bound over /tmp. Without
   * a /tmp mount, runsc puts its own in-memory tmpfs there, outside the
   * writable layer (and its size limit): a disk-backed layer would keep /tmp in memory.
   */
  gvisorTmpDir?: string;
  /** Syscalls a test build lets through the seccomp filter (PADDOCK_TEST_WEAKEN); empty in production. */
  testSeccompAllowed?: readonly string[];
}

/** A host file or folder shown to the sandbox at `path`, read-only unless `writable`. */
export interface HostMount {
  path: string;
  /** The host path, symlinks already resolved by whoever granted it. */
  source: string;
  writable: boolean;
}

interface Mount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface OciSpec {
  ociVersion: string;
  process: Record<string, unknown>;
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: Mount[];
  linux: {
    uidMappings: Array<{ containerID: number; hostID: number; size: number }>;
    gidMappings: Array<{ containerID: number; hostID: number; size: number }>;
    namespaces: Array<{ type: string; path?: string }>;
    resources: Record<string, unknown>;
    cgroupsPath: string;
    maskedPaths: string[];
    readonlyPaths: string[];
    seccomp: SeccompProfile;
    rootfsPropagation: string;
  };
}

const cfsPeriodUs = 100_000;

/** Builds the OCI runtime config of one sandbox. */
export function buildOciSpec(input: BundleSpecInput): OciSpec {
  const memoryBytes = input.limits.memoryMiB * 1024 * 1024;
  const capabilities = [...sandboxCapabilities];
  const gvisor = input.tier === 'gvisor';
  // Under gVisor every peer of the agent's socket looks alike (see paddock-agent.c).
  const agent = [
    `${agentPaths.binDir}/paddock-agent`,
    agentPaths.socket,
    ...(gvisor ? ['--socket-mode-guard'] : []),
    ...(input.egress ? ['--egress', agentPaths.egressSocket] : []),
  ];
  // gVisor's kernel reaps orphans of a PID 1 that ignores SIGCHLD, as the agent
  // does, so the agent is PID 1 there: one exec less, which costs ~15 ms under ptrace.
  const init = gvisor ? agent : [`${agentPaths.binDir}/tini`, '--', ...agent];
  const gvisorMounts: Mount[] =
    gvisor && input.gvisorPreloadFile
      ? [{ destination: '/etc/ld.so.preload', type: 'bind', source: input.gvisorPreloadFile, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] }]
      : [];
  if (gvisor && input.gvisorTmpDir)
    gvisorMounts.push({ destination: '/tmp', type: 'bind', source: input.gvisorTmpDir, options: ['bind', 'rw', 'nosuid', 'nodev'] });
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: init,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      capabilities: { bounding: capabilities, effective: capabilities, permitted: capabilities, inheritable: [], ambient: [] },
      rlimits: rlimits.map((r) => ({ ...r })),
      noNewPrivileges: true,
      oomScoreAdj,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: input.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSizeMiB}m`],
      },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      input.sysfsPath
        ? { destination: '/sys', type: 'bind', source: input.sysfsPath, options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
        : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: agentPaths.binDir, type: 'bind', source: input.agentBinDir, options: ['rbind', 'ro', 'nosuid', 'nodev'] },
      { destination: agentPaths.runDir, type: 'bind', source: input.agentRunDir, options: ['rbind', 'rw', 'nosuid', 'nodev', 'noexec'] },
      { destination: '/etc/hosts', type: 'bind', source: input.etcFiles.hosts, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
      { destination: '/etc/hostname', type: 'bind', source: input.etcFiles.hostname, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] },
      ...Object.entries(input.files ?? {}).map(([destination, source]) => ({
        destination,
        type: 'bind',
        source,
        options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
      })),
      ...(input.hostMounts ?? []).map((m) => ({
        destination: m.path,
        type: 'bind',
        source: m.source,
        // Not rbind: a mount below the granted path (writable, say) must not come along unasked.
        options: ['bind', m.writable ? 'rw' : 'ro', 'nosuid', 'nodev'],
      })),
      ...gvisorMounts,
    ],
    linux: {
      uidMappings: [{ containerID: 0, hostID: idMapping.hostId, size: idMapping.size }],
      gidMappings: [{ containerID: 0, hostID: idMapping.hostId, size: idMapping.size }],
      namespaces: [
        { type: 'pid' },
        input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'user' },
        { type: 'cgroup' },
      ],
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        memory: { limit: memoryBytes, ...(input.swapAccounting ? { swap: memoryBytes } : {}) },
        cpu: { quota: Math.max(1000, Math.round(input.limits.cpus * cfsPeriodUs)), period: cfsPeriodUs },
        pids: { limit: input.limits.pids + (gvisor ? gvisorPidsHeadroom : 0) },
      },
      cgroupsPath: input.cgroupsPath,
      maskedPaths: [...maskedPaths],
      readonlyPaths: [...readonlyPaths],
      seccomp: seccompProfileFor(input.tier, input.testSeccompAllowed),
      rootfsPropagation: 'rprivate',
    },
  };
}
