import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a sandbox's cgroup counts now. */
export interface ResourceUsage {
  /** CPU time used since the cgroup was made. */
  cpuUsageUsec: number;
  memoryBytes: number;
  pids: number;
}

/** A cgroup's counter files, kept open and read again in place: opening a cgroup file costs many times what reading it does. */
export interface UsageCounters {
  /** The counts now; undefined once the cgroup is gone (its files read no more). */
  read(): ResourceUsage | undefined;
  close(): void;
}

/** The limits the kernel enforces on a sandbox's cgroup; null when unlimited. */
export interface ResourceLimits {
  memoryLimitBytes: number | null;
  pidsLimit: number | null;
}

/** Above this a memory limit is no limit (cgroup v1 writes "unlimited" as a page-rounded LONG_MAX). */
const unlimitedBytes = 2 ** 60;

/**
 * Reads what the kernel recorded about a sandbox's cgroup. Works on cgroup v1
 * (separate controller hierarchies, as on our hybrid hosts) and on v2.
 */
export class CgroupProbe {
  readonly version: 1 | 2;
  readonly swapAccounting: boolean;

  constructor(private readonly root = '/sys/fs/cgroup') {
    this.version = existsSync(join(root, 'memory', 'memory.limit_in_bytes')) || existsSync(join(root, 'memory')) ? 1 : 2;
    this.swapAccounting = this.version === 1 ? existsSync(join(root, 'memory', 'memory.memsw.limit_in_bytes')) : existsSync(join(root, 'memory.swap.max'));
  }

  /** How many times the OOM killer struck in this cgroup so far. */
  oomKills(cgroupsPath: string): number {
    const file = this.version === 1 ? join(this.root, 'memory', cgroupsPath, 'memory.oom_control') : join(this.root, cgroupsPath, 'memory.events');
    try {
      const match = /^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'));
      return match ? Number(match[1]) : 0;
    } catch {
      return 0;
    }
  }

  /** Directories a sandbox's cgroup occupies, for leak checks. */
  cgroupDirs(cgroupsPath: string): string[] {
    if (this.version === 2) return [join(this.root, cgroupsPath)];
    return ['memory', 'pids', 'cpu', 'freezer'].map((c) => join(this.root, c, cgroupsPath));
  }

  /** Child cgroups (sandbox ids) under an engine's parent, to find strays. */
  children(parent: string): string[] {
    const dir = this.version === 1 ? join(this.root, 'pids', parent) : join(this.root, parent);
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      return [];
    }
  }

  /** The folder of a cgroup that lists its processes (cgroup.procs): the pids hierarchy's on cgroup v1. */
  processesDir(cgroupsPath: string): string {
    return this.version === 1 ? join(this.root, 'pids', cgroupsPath) : join(this.root, cgroupsPath);
  }

  /**
   * Kills every process in the sandbox's cgroup, paused ones too, and removes
   * the cgroup in every hierarchy: how a runc sandbox's teardown starts (see
   * RuntimeAdapter.endsWithItsCgroup), and the last line of defence after
   * another runtime's own delete (a process it lost track of).
   */
  async killAndRemove(cgroupsPath: string): Promise<void> {
    for (let attempt = 0; attempt < 60; attempt++) {
      if (this.killProcessesIn(cgroupsPath, attempt === 0) === 0) break;
      // Deaths take a moment (a process in D state, a namespace's init reaping): look again soon, then less often.
      await new Promise((r) => setTimeout(r, attempt < 10 ? 1 : 10));
    }
    this.removeEverywhere(cgroupsPath);
  }

  /**
   * Sends SIGKILL to every process in the cgroup now, then thaws it when
   * `thaw` (a frozen process takes its SIGKILL only once thawed); returns how
   * many it found, without waiting for them to die. 0: none left, or no cgroup.
   */
  killProcessesIn(cgroupsPath: string, thaw = true): number {
    let pids: number[];
    try {
      pids = readFileSync(join(this.processesDir(cgroupsPath), 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return 0;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (thaw && pids.length) this.thaw(cgroupsPath);
    return pids.length;
  }

  private thaw(cgroupsPath: string): void {
    const [file, value] =
      this.version === 1 ? [join(this.root, 'freezer', cgroupsPath, 'freezer.state'), 'THAWED'] : [join(this.root, cgroupsPath, 'cgroup.freeze'), '0'];
    try {
      writeFileSync(file, value);
    } catch {
      // no freezer there, or the cgroup is gone already
    }
  }

  /**
   * Removes an engine's cgroup parent once it holds no sandbox (runc removes a
   * sandbox's own cgroup, not the parent it made). Busy or missing parents stay.
   */
  removeParent(parent: string): void {
    this.removeEverywhere(parent);
  }

  /** rmdir of a cgroup in every hierarchy; a busy or missing one is left alone. */
  private removeEverywhere(cgroupsPath: string): void {
    const dirs =
      this.version === 2
        ? [join(this.root, cgroupsPath)]
        : readdirSync(this.root, { withFileTypes: true })
            .filter((d) => d.isDirectory())
            .map((d) => join(this.root, d.name, cgroupsPath));
    for (const dir of dirs) removeTree(dir);
  }

  /**
   * Opens the cgroup's CPU time, memory and process count files, on the host's
   * side of the hierarchy (the sandbox is shown none of it); undefined when the
   * cgroup is not there.
   */
  openCounters(cgroupsPath: string): UsageCounters | undefined {
    const v1 = this.version === 1;
    const paths = [
      this.file(cgroupsPath, 'memory', v1 ? 'memory.usage_in_bytes' : 'memory.current'),
      v1 ? this.file(cgroupsPath, 'cpuacct', 'cpuacct.usage') : this.file(cgroupsPath, 'cpu', 'cpu.stat'),
      this.file(cgroupsPath, 'pids', 'pids.current'),
    ];
    const fds: number[] = [];
    try {
      for (const path of paths) fds.push(openSync(path, 'r'));
    } catch {
      for (const fd of fds) closeSync(fd);
      return undefined;
    }
    const [memory = -1, cpu = -1, pids = -1] = fds;
    const buffer = Buffer.alloc(512);
    const text = (fd: number): string | undefined => {
      try {
        return buffer.toString('utf8', 0, readSync(fd, buffer, 0, buffer.length, 0));
      } catch {
        return undefined;
      }
    };
    return {
      read: () => {
        const memoryText = text(memory);
        const memoryBytes = memoryText === undefined ? Number.NaN : Number(memoryText.trim());
        if (!Number.isFinite(memoryBytes)) return undefined;
        const cpuText = text(cpu) ?? '';
        const cpuUsageUsec = v1 ? Math.floor(Number(cpuText.trim()) / 1000) : Number(/^usage_usec (\d+)$/m.exec(cpuText)?.[1] ?? 0);
        const pidCount = Number(text(pids)?.trim());
        return { cpuUsageUsec: Number.isFinite(cpuUsageUsec) ? cpuUsageUsec : 0, memoryBytes, pids: Number.isFinite(pidCount) ? pidCount : 0 };
      },
      close: () => {
        for (const fd of fds) closeSync(fd);
      },
    };
  }

  /** The memory and pids limits the kernel enforces (what was set, gVisor's headroom included); undefined once the cgroup is gone. */
  limits(cgroupsPath: string): ResourceLimits | undefined {
    const v1 = this.version === 1;
    const memory = this.file(cgroupsPath, 'memory', v1 ? 'memory.limit_in_bytes' : 'memory.max');
    if (readText(memory) === undefined) return undefined;
    return { memoryLimitBytes: readLimit(memory), pidsLimit: readLimit(this.file(cgroupsPath, 'pids', 'pids.max')) };
  }

  private file(cgroupsPath: string, controller: string, name: string): string {
    return this.version === 1 ? join(this.root, controller, cgroupsPath, name) : join(this.root, cgroupsPath, name);
  }

  /** Host memory the sandbox's processes use now, in bytes (page cache included). */
  memoryUsage(cgroupsPath: string): number {
    const file = this.version === 1 ? join(this.root, 'memory', cgroupsPath, 'memory.usage_in_bytes') : join(this.root, cgroupsPath, 'memory.current');
    try {
      return Number(readFileSync(file, 'utf8').trim());
    } catch {
      return 0;
    }
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A limit file: "max" (v2, pids) or a huge number (v1 memory) mean none. */
function readLimit(file: string): number | null {
  const text = readText(file)?.trim();
  if (!text || text === 'max') return null;
  const n = Number(text);
  return Number.isFinite(n) && n < unlimitedBytes ? n : null;
}

/** rmdir depth-first: empty child cgroups go, busy ones (and so their parents) stay. */
function removeTree(dir: string): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) removeTree(join(dir, entry.name));
    }
    rmdirSync(dir);
  } catch {
    // still has tasks, or was never made
  }
}
