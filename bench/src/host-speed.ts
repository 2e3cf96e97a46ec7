import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { summarize } from './stats.js';

/**
 * How fast the host runs the two things every row here is made of, read at
 * the run's start and end: a round trip to another process over pipes (the
 * wake-ups of every call between the bench, the daemon, the agent and the
 * sandbox) and a fixed piece of CPU work. This machine is a VM whose speed
 * drifts over hours; the same code then reads slower in every row, its raw
 * baselines and floors included. Two runs' rows compare only when these do.
 */
export interface HostSpeed {
  /** p50 of a one-byte round trip to `cat` through its stdin and stdout, the two on CPUs of their own, µs. */
  pipeRoundTripUs: number;
  /** The median of five SHA-256 digests of 64 MiB, ms. */
  sha256Ms: number;
}

const roundTrips = 2000;
const digests = 5;

export function measureHostSpeed(): HostSpeed {
  return { pipeRoundTripUs: pipeRoundTripUs(), sha256Ms: sha256Ms() };
}

/**
 * Each side pinned to a CPU of its own, as the bench's calls mostly cross
 * CPUs: left to the scheduler, the two would share one CPU in some runs
 * (3 µs here) and not in others (55 µs), and the figure would show that.
 */
const pinger = `
const { spawn } = require('node:child_process');
const cat = spawn('taskset', ['-c', process.argv[1], 'cat'], { stdio: ['pipe', 'pipe', 'ignore'] });
const times = [];
let started = 0;
cat.stdout.on('data', () => {
  times.push(performance.now() - started);
  if (times.length === Number(process.argv[2])) {
    cat.kill();
    times.sort((a, b) => a - b);
    process.stdout.write(String(times[times.length >> 1] * 1000));
  } else ping();
});
const ping = () => { started = performance.now(); cat.stdin.write('x'); };
cat.once('spawn', ping);
`;

function pipeRoundTripUs(): number {
  const other = String(Math.min(1, availableParallelism() - 1));
  const out = execFileSync('taskset', ['-c', '0', process.execPath, '-e', pinger, other, String(roundTrips)], { encoding: 'utf8', timeout: 60_000 });
  return Number(out);
}

function sha256Ms(): number {
  const data = Buffer.alloc(64 * 1024 * 1024, 7);
  const times: number[] = [];
  for (let i = 0; i < digests; i++) {
    const t = performance.now();
    createHash('sha256').update(data).digest();
    times.push(performance.now() - t);
  }
  return summarize(times).p50;
}
