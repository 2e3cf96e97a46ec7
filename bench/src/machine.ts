import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { capture } from './timed-spawn.js';

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryMiB: number;
  kernel: string;
  runc: string;
  runsc: string;
  bwrap: string;
  node: string;
  cgroup: string;
  loadAvgAtStart: number[];
}

async function firstLine(file: string, args: string[]): Promise<string> {
  try {
    return (await capture(file, args)).trim().split('\n')[0] ?? '';
  } catch (err) {
    return `unavailable (${(err as Error).message})`;
  }
}

export async function describeMachine(): Promise<Machine> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  let nproc = availableParallelism();
  try {
    nproc = Number((await capture('nproc', [])).trim()) || nproc;
  } catch {
    // os figure stands
  }
  const cgroup = (() => {
    try {
      readFileSync('/sys/fs/cgroup/cgroup.controllers');
      return 'v2';
    } catch {
      return 'v1 (hybrid)';
    }
  })();
  return {
    nproc,
    cpuModel: model,
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
    kernel: (await firstLine('uname', ['-r'])) || 'unknown',
    runc: await firstLine('runc', ['--version']),
    runsc: await firstLine('runsc', ['--version']),
    bwrap: await firstLine('bwrap', ['--version']),
    node: process.version,
    cgroup,
    loadAvgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
