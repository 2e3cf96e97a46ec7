import { readFileSync } from 'node:fs';

/** Whether a host process runs: a zombie (exited, not yet reaped) does not. Apart from host-probe.ts so fast-tier tests can use it. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
