import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;

/** A /proc/<pid>/status field in bytes (VmRSS, VmHWM …), or NaN if the process is gone. */
export function procStatusBytes(pid: number, field = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Proportional set size: shared pages (the static tini/agent text) split among their users. */
export function procPssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function toMiB(bytes: number): number {
  return bytes / MiB;
}

/** The memory cgroup directory a process is in (v1 memory hierarchy, or the v2 unified tree). */
export function memoryCgroupDir(pid: number): string | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers?.split(',').includes('memory')) return join('/sys/fs/cgroup/memory', path ?? '/');
  }
  const unified = text.split('\n').find((l) => l.startsWith('0::'));
  return unified ? join('/sys/fs/cgroup', unified.slice(3)) : null;
}

export interface CgroupMemory {
  dir: string;
  /** memory.usage_in_bytes (v1) / memory.current (v2): everything charged to the cgroup. */
  usage: number;
  /** Anonymous memory of its processes. */
  anon: number;
  /** Page cache charged to it, tmpfs/shmem pages included. */
  cache: number;
  shmem: number;
  /** Kernel memory (slab, stacks, page tables) where the kernel reports it; part of usage. */
  kernel: number;
  pids: number[];
}

function readNumber(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return Number.NaN;
  }
}

function readStat(file: string): Map<string, number> {
  const stats = new Map<string, number>();
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v) stats.set(k, Number(v));
    }
  } catch {
    // cgroup gone
  }
  return stats;
}

export function readCgroupMemory(dir: string): CgroupMemory {
  const v2 = existsSync(join(dir, 'memory.current'));
  const stat = readStat(join(dir, 'memory.stat'));
  const pids = (() => {
    try {
      return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  })();
  if (v2) {
    return {
      dir,
      usage: readNumber(join(dir, 'memory.current')),
      anon: stat.get('anon') ?? Number.NaN,
      cache: stat.get('file') ?? Number.NaN,
      shmem: stat.get('shmem') ?? Number.NaN,
      kernel: stat.get('kernel') ?? (stat.get('slab') ?? 0) + (stat.get('kernel_stack') ?? 0) + (stat.get('pagetables') ?? 0),
      pids,
    };
  }
  return {
    dir,
    usage: readNumber(join(dir, 'memory.usage_in_bytes')),
    anon: stat.get('rss') ?? Number.NaN,
    cache: stat.get('cache') ?? Number.NaN,
    shmem: stat.get('shmem') ?? Number.NaN,
    kernel: readNumber(join(dir, 'memory.kmem.usage_in_bytes')),
    pids,
  };
}

/** /proc/meminfo in bytes. */
export function meminfo(): Map<string, number> {
  const info = new Map<string, number>();
  for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?: kB)?$/.exec(line);
    if (m) info.set(m[1] as string, Number(m[2]) * 1024);
  }
  return info;
}

/**
 * Memory the host cannot reclaim: total − free − buffers − page cache −
 * reclaimable slab, plus tmpfs/shmem pages (which sit in the page cache but
 * cannot be dropped). MemAvailable is not used: it is an estimate that moves
 * with reclaimable cache.
 */
export function hostUsedBytes(info = meminfo()): number {
  const g = (k: string) => info.get(k) ?? 0;
  return g('MemTotal') - g('MemFree') - g('Buffers') - g('Cached') - g('SReclaimable') + g('Shmem');
}

export function hostKernelBytes(info = meminfo()): number {
  return (info.get('Slab') ?? 0) + (info.get('KernelStack') ?? 0) + (info.get('PageTables') ?? 0);
}
