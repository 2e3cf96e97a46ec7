import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';

// Where a run's CPU went, file by file (PADDOCK_TEST_CPU=<file> appends
// "seconds, worker pid, file" lines): the worker's own time, its CLI threads
// included, and that of the processes it started and reaped (Python, bwrap,
// browsers), read from /proc as each file starts and ends. A file's imports
// are not in it, nor processes reaped by no one of ours (those in a command's
// own pid namespace when bwrap is killed). The load of a shared machine
// changes wall times, these much less.
const out = process.env.PADDOCK_TEST_CPU;

function cpuTicks(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime, stime, cutime, cstime in ticks of 1/100 s: fields 14–17 of proc_pid_stat(5), 11–14 after the name.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
}

if (out) {
  let start = 0;
  beforeAll(() => {
    start = cpuTicks();
  });
  afterAll(() => {
    appendFileSync(out, `${((cpuTicks() - start) / 100).toFixed(2)}\t${process.pid}\t${expect.getState().testPath}\n`);
  });
}
