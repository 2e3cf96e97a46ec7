import type { BenchContext } from './benchmarks.js';
import { withServerCpu } from './process-cpu.js';
import { rotated } from './stats.js';
import { sleep } from './timed-spawn.js';

/** One way of making the same call, timed in runs. */
export interface CallWay {
  name: string;
  run: () => Promise<unknown>;
  /** The server process that answers this way's calls: what it spends on CPU per call is recorded too (`${series}.${way}.cpuMain`, `.cpuAll`). */
  serverPid?: number;
  /** Idle before each call, untimed: how long the machine lies still before it (a `runc run`'s wait, say) changes what a call costs. */
  idleBeforeMs?: number;
}

/** Calls a way makes in a row before the next one has its turn. */
export const callsPerRun = 20;

/**
 * Rounds in which each way makes `callsPerRun` calls in a row, in an order
 * that rotates from round to round: a client's calls to a sandbox come in runs
 * on one connection, and drift in the machine still spreads over every way.
 * The first round warms every path up and is not recorded. Samples go to
 * `${series}.${way}`; `rounds` defaults to enough for the bench's exec rounds.
 */
export async function timeInRuns(ctx: BenchContext, series: string, ways: CallWay[], rounds?: number): Promise<void> {
  const total = rounds ?? 1 + Math.ceil(ctx.config.execIterations / callsPerRun);
  for (let round = 0; round < total; round++) {
    for (const way of rotated(ways, round)) {
      const addCpu = (key: string, ms: number) => {
        if (round > 0) ctx.samples.add(`${series}.${way.name}.${key}`, ms);
      };
      await withServerCpu(way.serverPid, callsPerRun, addCpu, async () => {
        for (let i = 0; i < callsPerRun; i++) {
          ctx.signal.throwIfAborted();
          if (way.idleBeforeMs) await sleep(way.idleBeforeMs);
          const t = performance.now();
          try {
            await way.run();
          } catch (err) {
            throw new Error(`${series}, ${way.name}, round ${round + 1}: ${(err as Error).message}`);
          }
          if (round > 0) ctx.samples.add(`${series}.${way.name}`, performance.now() - t);
        }
      });
    }
    if (round > 0 && (round % 5 === 0 || round === total - 1)) ctx.progress(`  ${round}/${total - 1} rounds of ${callsPerRun} calls per way`);
  }
}
