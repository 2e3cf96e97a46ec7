import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
