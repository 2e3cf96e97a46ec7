import { readFileSync } from 'node:fs';
import { Pools, Sandbox } from '@paddock/sdk';
import type { BenchContext } from './benchmarks.js';
import { sleep } from './timed-spawn.js';

const now = () => performance.now();
const limits = { memoryMiB: 2048 };
/** A 640×480 figure drawn, rendered to PNG by the inline backend and published, timed inside the kernel; the cell prints that time. */
const chartCell = [
  'import time, matplotlib.pyplot as plt',
  'from IPython.display import display',
  '_t = time.perf_counter()',
  'fig = plt.figure(figsize=(6.4, 4.8), dpi=100)',
  'plt.plot(range(100), [i * i for i in range(100)])',
  'display(fig)',
  'plt.close(fig)',
  'print((time.perf_counter() - _t) * 1000)',
].join('\n');

export type CodeOutcome = { measured: true } | { measured: false; reason: string };

/**
 * The code interpreter's three targets: a warm `runCode('1+1')` through the
 * SDK (beside `commands.run(['true'])` in the same sandbox, for what the
 * kernel adds), the first cell of a sandbox claimed from a warm pool (and of
 * one made cold, for scale), and a 640×480 matplotlib chart through the SDK
 * against the same cell timed inside the kernel. The first sandbox builds
 * the code-interpreter template into the bench daemon's state if it has none.
 */
export async function benchCode(ctx: BenchContext): Promise<CodeOutcome> {
  const { daemon, samples, config } = ctx;
  const conn = { url: daemon.endpoint.url, token: daemon.token };
  let sbx: Sandbox;
  try {
    sbx = await Sandbox.create({ ...conn, template: 'code-interpreter', limits, requestTimeoutMs: 60 * 60_000 });
  } catch (err) {
    return { measured: false, reason: `no code-interpreter sandbox: ${(err as Error).message}` };
  }
  try {
    await sbx.runCode("%config InlineBackend.print_figure_kwargs = {'bbox_inches': None}");
    const n = config.execIterations;
    for (let round = 0; round < config.warmup * 5 + n; round++) {
      ctx.signal.throwIfAborted();
      let t = now();
      await sbx.runCode('1+1');
      const cell = now() - t;
      t = now();
      await sbx.commands.run(['true']);
      const command = now() - t;
      if (round < config.warmup * 5) continue;
      samples.add('code.run.warm', cell);
      samples.add('code.exec.true', command);
    }
    ctx.progress(`  warm 1+1: ${n} cells`);
    for (let round = 0; round < config.warmup + 20; round++) {
      ctx.signal.throwIfAborted();
      const t = now();
      const r = await sbx.runCode(chartCell);
      const total = now() - t;
      if (!r.results.some((x) => x.png)) throw new Error(`the chart cell returned no PNG: ${JSON.stringify(r.error)}`);
      if (round < config.warmup) continue;
      samples.add('code.chart.sdk', total);
      samples.add('code.chart.kernel', Number(r.logs.stdout.trim()));
    }
    ctx.progress('  chart: 20 cells');
  } finally {
    await sbx.kill().catch(() => {});
  }

  const rounds = Math.max(3, Math.min(config.cliIterations, 10));
  for (let round = 0; round < 3; round++) {
    ctx.signal.throwIfAborted();
    const t = now();
    const cold = await Sandbox.create({ ...conn, template: 'code-interpreter', limits });
    await cold.runCode('1+1');
    samples.add('code.firstCell.cold', now() - t);
    await cold.kill().catch(() => {});
  }
  ctx.progress('  first cell, cold: 3 sandboxes');

  const warmed = () => (readFileSync(daemon.logFile, 'utf8').match(/pooled sandbox warmed/g) ?? []).length;
  const base = warmed();
  const pool = await Pools.set({ template: 'code-interpreter', size: 1, limits }, conn);
  try {
    for (let round = 0; round < rounds; round++) {
      ctx.signal.throwIfAborted();
      // Each claim takes the pool's one sandbox; the next round waits for the refill and its kernel.
      const deadline = Date.now() + 5 * 60_000;
      while (warmed() < base + round + 1) {
        if (Date.now() > deadline) throw new Error('the pool did not warm a sandbox within 5 minutes');
        await sleep(200);
      }
      const t = now();
      const claimed = await Sandbox.create({ ...conn, template: 'code-interpreter', limits });
      await claimed.runCode('1+1');
      samples.add('code.firstCell.pool', now() - t);
      await claimed.kill().catch(() => {});
    }
    ctx.progress(`  first cell from a warm pool: ${rounds} claims`);
  } finally {
    await Pools.remove(pool.id, conn).catch(() => {});
  }
  return { measured: true };
}
