import { readdirSync, readFileSync } from 'node:fs';

/** CPU time a process has used so far (ms): its main thread, and all its threads together. */
export interface ProcessCpu {
  mainMs: number;
  allMs: number;
}

/**
 * Read from each thread's /proc/<pid>/task/<tid>/schedstat (nanoseconds on a
 * CPU), not from utime/stime, whose 10 ms ticks are coarser than a call. A
 * thread that ended between the listing and its read is skipped; its time is
 * lost, which for Node's long-lived worker threads does not happen in a run.
 */
export function processCpu(pid: number): ProcessCpu {
  let mainNs = 0;
  let allNs = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let ns: number;
    try {
      ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      continue;
    }
    allNs += ns;
    if (tid === String(pid)) mainNs = ns;
  }
  return { mainMs: mainNs / 1e6, allMs: allNs / 1e6 };
}

/** The CPU a process used between two readings of processCpu. */
export function cpuBetween(before: ProcessCpu, after: ProcessCpu): ProcessCpu {
  return { mainMs: after.mainMs - before.mainMs, allMs: after.allMs - before.allMs };
}

/** What a server process spent on CPU while `work` ran, as samples `${key}.cpuMain` and `${key}.cpuAll` per call of it. */
export async function withServerCpu<T>(
  pid: number | undefined,
  calls: number,
  add: (key: 'cpuMain' | 'cpuAll', msPerCall: number) => void,
  work: () => Promise<T>,
): Promise<T> {
  if (pid === undefined) return work();
  const before = processCpu(pid);
  const result = await work();
  const used = cpuBetween(before, processCpu(pid));
  add('cpuMain', used.mainMs / calls);
  add('cpuAll', used.allMs / calls);
  return result;
}
