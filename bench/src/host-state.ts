import { readdirSync, readFileSync } from 'node:fs';

/**
 * What the host is busy with that the load average shows late or not at all.
 * After many sandboxes end, the kernel releases their cgroups in its own
 * workers (tasks blocked in the kernel, no user CPU); a removed memory cgroup
 * lingers while pages stay charged to it; and a host with a proactive reclaimer
 * (DAMON pageout here) drops pages idle for a while, which are then read again.
 * Each makes the same code measure slower.
 */
export interface HostState {
  /** Tasks in uninterruptible sleep (state D) now. */
  blockedTasks: number;
  /** Memory cgroups the kernel holds, live and being released (/proc/cgroups). */
  memoryCgroups: number;
  /** File pages read again after they had been dropped from memory, since boot (/proc/vmstat). */
  fileRefaults: number;
}

export interface Settling {
  settled: boolean;
  waitedSeconds: number;
}

export function readHostState(): HostState {
  return { blockedTasks: countBlockedTasks(), memoryCgroups: memoryCgroupCount(), fileRefaults: vmstat('workingset_refault_file') };
}

/**
 * Waits until the host has been quiet for `quietSeconds` in a row (no task
 * blocked in the kernel, the memory cgroup count steady), at most `maxSeconds`;
 * a run that starts right after another's thousands of teardowns measures
 * the kernel's release work as well.
 */
export async function waitForQuietHost(log: (line: string) => void, signal: AbortSignal, maxSeconds = 120, quietSeconds = 5): Promise<Settling> {
  const started = performance.now();
  const window: HostState[] = [];
  let lastSaid = 0;
  for (;;) {
    const now = readHostState();
    window.push(now);
    if (window.length > quietSeconds) window.shift();
    const waitedSeconds = Math.round((performance.now() - started) / 1000);
    if (window.length === quietSeconds && isQuiet(window)) return { settled: true, waitedSeconds };
    if (waitedSeconds >= maxSeconds || signal.aborted) return { settled: false, waitedSeconds };
    if (waitedSeconds - lastSaid >= 5) {
      lastSaid = waitedSeconds;
      log(`  waiting for the host to settle: ${now.blockedTasks} tasks blocked in the kernel, ${now.memoryCgroups} memory cgroups (${waitedSeconds} s)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Cgroups being released go away a few at a time even on a quiet host: a small drift is steady. */
function isQuiet(window: HostState[]): boolean {
  const counts = window.map((s) => s.memoryCgroups).filter(Number.isFinite);
  const steady = counts.length === 0 || Math.max(...counts) - Math.min(...counts) <= 5;
  return steady && window.every((s) => s.blockedTasks === 0);
}

function countBlockedTasks(): number {
  let blocked = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // the process ended meanwhile
    }
    for (const tid of tasks) {
      try {
        // The state follows the command's closing parenthesis (a command may hold one itself).
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        if (stat[stat.lastIndexOf(')') + 2] === 'D') blocked++;
      } catch {
        // the task ended meanwhile
      }
    }
  }
  return blocked;
}

function memoryCgroupCount(): number {
  try {
    const line = readFileSync('/proc/cgroups', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('memory\t'));
    return Number(line?.split('\t')[2] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

function vmstat(key: string): number {
  try {
    const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync('/proc/vmstat', 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
