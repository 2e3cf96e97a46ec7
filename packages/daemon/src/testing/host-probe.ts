import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AgentClient, mountsUnder, sandboxPaths } from '@paddock/engine';
import { cgroupParentFor } from '../config/daemon-config.js';

/** What a sandbox occupies on the host, looked at from outside, for leak checks. */
export function hostFootprint(stateDir: string, sandboxId: string) {
  const cgroupParent = cgroupParentOf(stateDir);
  // Every hierarchy (cgroup v1 mounts one per controller, plus systemd's and the unified one); v2 has one.
  const hierarchies = readdirSync('/sys/fs/cgroup', { withFileTypes: true }).filter((d) => d.isDirectory());
  const cgroupDirs = [`/sys/fs/cgroup/${cgroupParent}/${sandboxId}`, ...hierarchies.map((h) => `/sys/fs/cgroup/${h.name}/${cgroupParent}/${sandboxId}`)];
  return {
    mounts: mountsUnder(`${stateDir}/sandboxes/${sandboxId}`),
    cgroupDirs: cgroupDirs.filter((d) => existsSync(d)),
    dirExists: existsSync(`${stateDir}/sandboxes/${sandboxId}`),
    pids: pidsOf(cgroupParent, sandboxId),
    // What runc and runsc keep of it (runc: a folder named by the id; runsc: files whose names hold it).
    runtimeRecords: ['runc', 'runsc'].flatMap((runtime) => {
      const root = `${stateDir}/${runtime}`;
      return existsSync(root)
        ? readdirSync(root)
            .filter((name) => name.includes(sandboxId))
            .map((name) => `${root}/${name}`)
        : [];
    }),
  };
}

export function pidsOf(cgroupParent: string, sandboxId: string): number[] {
  try {
    return readFileSync(`/sys/fs/cgroup/pids/${cgroupParent}/${sandboxId}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Forks the kernel refused a sandbox at its pids limit, as its pids cgroup counts them on the host (cgroup v1 or v2). */
export function forksRefused(stateDir: string, sandboxId: string): number {
  const cgroupParent = cgroupParentOf(stateDir);
  for (const file of [`/sys/fs/cgroup/pids/${cgroupParent}/${sandboxId}/pids.events`, `/sys/fs/cgroup/${cgroupParent}/${sandboxId}/pids.events`]) {
    if (existsSync(file)) return Number(/^max (\d+)/m.exec(readFileSync(file, 'utf8'))?.[1] ?? 0);
  }
  return 0;
}

export function cgroupParentOf(stateDir: string): string {
  return cgroupParentFor(resolve(stateDir));
}

export { processAlive } from './process-alive.js';

/** CPU time a sandbox's cgroup has used so far, in seconds, read on the host (cgroup v1 or v2). */
export function cgroupCpuSeconds(stateDir: string, sandboxId: string): number {
  const cgroupParent = cgroupParentOf(stateDir);
  const v1 = `/sys/fs/cgroup/cpuacct/${cgroupParent}/${sandboxId}/cpuacct.usage`;
  if (existsSync(v1)) return Number(readFileSync(v1, 'utf8')) / 1e9;
  const stat = readFileSync(`/sys/fs/cgroup/${cgroupParent}/${sandboxId}/cpu.stat`, 'utf8');
  return Number(/usage_usec (\d+)/.exec(stat)?.[1] ?? 0) / 1e6;
}

/** A sandbox's agent, reached on the host through its socket as the daemon reaches it: to watch a sandbox while no daemon runs. */
export function agentOnHost(stateDir: string, sandboxId: string): AgentClient {
  return new AgentClient(sandboxPaths(`${stateDir}/sandboxes`, sandboxId).socket, sandboxId);
}

/** The sandbox's processes running the agent's binary, seen from the host (container tier): its main one and its handlers. */
export function agentProcessCount(stateDir: string, sandboxId: string): number {
  return hostFootprint(stateDir, sandboxId).pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'paddock-agent';
    } catch {
      return false;
    }
  }).length;
}
