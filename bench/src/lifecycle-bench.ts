import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandResult, SandboxInfo, TemplateInfo, Tier } from '@paddock/core';
import { type SandboxPaths, sandboxPaths } from '@paddock/engine';
import { agentSocketOf, HttpApi } from './bench-daemon.js';
import type { BenchContext } from './benchmarks.js';
import { benchDashboard } from './dashboard-bench.js';
import { procStatusBytes } from './memory.js';
import { startNodeExecFloor } from './node-exec-floor.js';
import { cpuBetween, type ProcessCpu, processCpu } from './process-cpu.js';
import { timedSpawn, timedSpawnOk } from './timed-spawn.js';
import { type BenchPool, startBenchPool } from './warm-pool.js';

const now = () => performance.now();
const filledMiB = 100;

/**
 * Lifecycle through the API against raw runc and a plain copy: pause and
 * resume (against `runc pause`/`resume` of the same container), and snapshot
 * and fork of a sandbox holding 100 MB of written files (against `cp -a` of
 * the same writable layer, the floor of any copy).
 */
export async function benchLifecycle(ctx: BenchContext): Promise<void> {
  const { daemon, samples } = ctx;
  const sb = await daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', {
    template: 'base',
    timeoutMs: 30 * 60_000,
    limits: { memoryMiB: 1024, diskMiB: 2048 },
  });
  const scratch = await mkdtemp(join(tmpdir(), 'paddock-bench-copy-'));
  try {
    const filled = await daemon.api.call<CommandResult>('POST', `/v1/sandboxes/${sb.id}/exec`, {
      cmd: ['sh', '-c', `for i in $(seq 1 ${filledMiB}); do head -c 1048576 /dev/urandom > /work/f$i; done; sync`],
    });
    if (filled.exitCode !== 0) throw new Error(`filling the sandbox failed: ${filled.stderr}`);
    for (let round = 0; round < ctx.config.warmup * 5 + 30; round++) {
      ctx.signal.throwIfAborted();
      const record = round >= ctx.config.warmup * 5;
      let t = now();
      await daemon.api.call('POST', `/v1/sandboxes/${sb.id}/pause`);
      if (record) samples.add('lifecycle.pause', now() - t);
      t = now();
      await daemon.api.call('POST', `/v1/sandboxes/${sb.id}/resume`);
      if (record) samples.add('lifecycle.resume', now() - t);
      t = now();
      await timedSpawnOk('runc', ['--root', daemon.runcRoot, 'pause', sb.id]);
      if (record) samples.add('lifecycle.runcPause', now() - t);
      t = now();
      await timedSpawnOk('runc', ['--root', daemon.runcRoot, 'resume', sb.id]);
      if (record) samples.add('lifecycle.runcResume', now() - t);
    }
    const upper = sandboxPaths(join(daemon.stateDir, 'sandboxes'), sb.id).upper;
    const rounds = Math.max(3, Math.round(ctx.config.createIterations / 6));
    for (let round = 0; round < rounds; round++) {
      ctx.signal.throwIfAborted();
      let t = now();
      const snap = await daemon.api.call<TemplateInfo>('POST', `/v1/sandboxes/${sb.id}/snapshots`, { name: `bench-snap-${process.pid}-${round}` });
      samples.add('lifecycle.snapshot', now() - t);
      await daemon.api.call('DELETE', `/v1/templates/${snap.name}`);
      t = now();
      const fork = await daemon.api.call<SandboxInfo>('POST', `/v1/sandboxes/${sb.id}/fork`, {});
      const forked = now();
      const check = await daemon.api.call<CommandResult>('POST', `/v1/sandboxes/${fork.id}/exec`, { cmd: ['sh', '-c', `ls /work | wc -l`] });
      samples.add('lifecycle.fork', forked - t);
      samples.add('lifecycle.forkFirstOutput', now() - t);
      if (Number(check.stdout.trim()) !== filledMiB) throw new Error(`the fork has ${check.stdout.trim()} files, not ${filledMiB}`);
      await daemon.api.call('DELETE', `/v1/sandboxes/${fork.id}`);
      t = now();
      const cp = await daemon.api.call<{ id: string }>('POST', `/v1/sandboxes/${sb.id}/checkpoints`);
      samples.add('lifecycle.checkpoint', now() - t);
      t = now();
      await daemon.api.call('POST', `/v1/sandboxes/${sb.id}/rollback`, { checkpoint: cp.id });
      samples.add('lifecycle.rollback', now() - t);
      const target = join(scratch, `copy-${round}`);
      t = now();
      await timedSpawnOk('cp', ['-a', '--', `${upper}/.`, target]);
      samples.add('lifecycle.cpCopy', now() - t);
      await rm(target, { recursive: true, force: true });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await daemon.api.call('DELETE', `/v1/sandboxes/${sb.id}`);
  }
}

/**
 * Warm claim → first output: a create served from a pool of the base template
 * (default limits), then `echo hi` in it, against the cold create measured in
 * the same run. Each round waits for the pool to refill, so every claim is a hit.
 */
export async function benchWarmClaim(ctx: BenchContext): Promise<void> {
  const { samples, daemon } = ctx;
  const long = await daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base', timeoutMs: 30 * 60_000 });
  const floor = await startNodeExecFloor(daemon.stateDir, agentSocketOf(daemon, long.id), long.id);
  const floorApi = new HttpApi(floor.url, '');
  try {
    await claimsToFirstOutput(
      ctx,
      ctx.config.warmup + ctx.config.createIterations,
      (round, claimMs, firstOutputMs, daemonCpu) => {
        if (round < ctx.config.warmup) return;
        samples.add('pool.claim', claimMs);
        samples.add('pool.firstOutput', firstOutputMs);
        samples.add('pool.firstOutput.cpuMain', daemonCpu.mainMs);
        samples.add('pool.firstOutput.cpuAll', daemonCpu.allMs);
      },
      async (round, pool) => {
        const floorMs = await claimFloorAfterRefill(ctx, pool, floorApi);
        if (round >= ctx.config.warmup) samples.add('pool.floor', floorMs);
      },
    );
  } finally {
    floorApi.close();
    await floor.stop();
    await daemon.api.call('DELETE', `/v1/sandboxes/${long.id}`);
  }
}

/**
 * The claim's floor in the claim's own conditions. After a timed claim, once
 * its pool is full again (as a timed claim starts): a round trip that does
 * nothing plus `echo hi` through the floor server (node-exec-floor.ts) in a
 * long-lived sandbox. Then a pool sandbox is taken (untimed) and dropped, so
 * that the next timed claim too waits for a refill first. Right after a
 * refill the machine's caches hold runc's and the kernel's work, not the
 * daemon's; the same two calls made back to back are a floor that a claim
 * measured here could never reach.
 */
async function claimFloorAfterRefill(ctx: BenchContext, pool: BenchPool, floorApi: HttpApi): Promise<number> {
  await pool.full();
  const t0 = now();
  await floorApi.call('POST', '/ping', {});
  const out = await floorApi.call<CommandResult>('POST', '/exec', { cmd: ['echo', 'hi'] });
  const ms = now() - t0;
  if (out.stdout !== 'hi\n') throw new Error(`the floor server's echo printed ${JSON.stringify(out.stdout)}`);
  const taken = await ctx.daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base' });
  await ctx.daemon.api.call('DELETE', `/v1/sandboxes/${taken.id}`);
  return ms;
}

/** Untimed claims before the warm figure of the claim: V8 has then optimized the daemon's code on that path. */
export const warmClaimWarmUps = 250;

/**
 * The warm claim once the daemon is warm (see benchSteadyExec): the same
 * rounds after `warmClaimWarmUps` untimed ones. Not judged; shown beside the row.
 */
export async function benchSteadyClaim(ctx: BenchContext): Promise<void> {
  const rounds = warmClaimWarmUps + ctx.config.createIterations;
  await claimsToFirstOutput(ctx, rounds, (round, _claimMs, firstOutputMs, daemonCpu) => {
    if (round >= warmClaimWarmUps) {
      ctx.samples.add('pool.firstOutputSteady', firstOutputMs);
      ctx.samples.add('pool.firstOutputSteady.cpuMain', daemonCpu.mainMs);
    }
    if ((round + 1) % 50 === 0) ctx.progress(`  ${round + 1}/${rounds} claims`);
  });
}

/**
 * Pool claims (see poolClaims), each followed by `echo hi` in the claimed
 * sandbox; `record` gets each round's times, and the daemon's CPU from before
 * the claim to the output (read outside the timed span).
 */
async function claimsToFirstOutput(
  ctx: BenchContext,
  rounds: number,
  record: (round: number, claimMs: number, firstOutputMs: number, daemonCpu: ProcessCpu) => void,
  afterRound?: (round: number, pool: BenchPool) => Promise<void>,
): Promise<void> {
  const pid = ctx.daemon.endpoint.pid;
  let cpuBefore = processCpu(pid);
  await poolClaims(
    ctx,
    rounds,
    async (round, sb, t0, t1) => {
      const out = await ctx.daemon.api.call<CommandResult>('POST', `/v1/sandboxes/${sb.id}/exec`, { cmd: ['echo', 'hi'] });
      const t2 = now();
      const daemonCpu = cpuBetween(cpuBefore, processCpu(pid));
      if (out.stdout !== 'hi\n') throw new Error(`warm exec printed ${JSON.stringify(out.stdout)}`);
      record(round, t1 - t0, t2 - t0, daemonCpu);
    },
    {
      justBeforeClaim: () => {
        cpuBefore = processCpu(pid);
      },
      afterRound,
    },
  );
}

/**
 * Makes a pool of the base template (default limits) and claims from it
 * `rounds` times, each once the pool is full again (so every claim is a hit):
 * `use` gets the round, the sandbox and the times before and after its
 * POST /v1/sandboxes; the sandbox is killed after it, the pool at the end.
 * `hooks.justBeforeClaim` runs outside the timed span, right before it;
 * `hooks.afterRound` once the round's sandbox is killed.
 */
async function poolClaims(
  ctx: BenchContext,
  rounds: number,
  use: (round: number, sb: SandboxInfo, beforeClaim: number, afterClaim: number) => Promise<void>,
  hooks: { justBeforeClaim?: () => void; afterRound?: (round: number, pool: BenchPool) => Promise<void> } = {},
): Promise<void> {
  const { daemon } = ctx;
  const pool = await startBenchPool(daemon.api, 3);
  try {
    for (let round = 0; round < rounds; round++) {
      ctx.signal.throwIfAborted();
      await pool.full();
      hooks.justBeforeClaim?.();
      const t0 = now();
      const sb = await daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base' });
      const t1 = now();
      await use(round, sb, t0, t1);
      await daemon.api.call('DELETE', `/v1/sandboxes/${sb.id}`);
      await hooks.afterRound?.(round, pool);
    }
    const { misses } = await pool.stats();
    if (misses > 0) ctx.notes.add(`a warm pool missed ${misses} of ${rounds} claims`);
  } finally {
    await pool.remove();
  }
}

export interface ThroughputOutcome {
  perSecond: number;
  /** Raw `runc run` + `delete` cycles of the same bundle per second, 4 clients, in the same run. */
  rawPerSecond: number;
  clients: number;
  seconds: number;
}

/** Runs `cycle` on `clients` loops at once until `seconds` have passed; cycles done and seconds taken. */
async function runCycles(ctx: BenchContext, clients: number, seconds: number, cycle: () => Promise<void>): Promise<{ done: number; seconds: number }> {
  const deadline = now() + seconds * 1000;
  let done = 0;
  const started = now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (now() < deadline) {
        ctx.signal.throwIfAborted();
        await cycle();
        done++;
      }
    }),
  );
  return { done, seconds: (now() - started) / 1000 };
}

/**
 * Create + exec `true` + kill through the API, in a loop on several clients
 * at once; and the floor under it: raw runc running `true` in a bundle made
 * by the engine's own parts (overlay, spec), then deleting it and its
 * overlay, on as many clients. The two take turns in slices (the machine's
 * pace drifts over a minute), and each figure is its slices' cycles over
 * their time.
 */
export async function benchThroughput(ctx: BenchContext): Promise<ThroughputOutcome> {
  const { daemon, raw } = ctx;
  const clients = 4;
  const slices = 4;
  const sliceSeconds = 5;
  const paddockCycle = async () => {
    const sb = await daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base' });
    const r = await daemon.api.call<CommandResult>('POST', `/v1/sandboxes/${sb.id}/exec`, { cmd: ['true'] });
    await daemon.api.call('DELETE', `/v1/sandboxes/${sb.id}`);
    if (r.exitCode !== 0) throw new Error(`exec true exited ${r.exitCode}`);
  };
  let n = 0;
  const rawCycle = async () => {
    const id = `bench-cycle-${process.pid}-${n++}`;
    const paths = await raw.prepareRootfs(id);
    try {
      await raw.writeSpec(id, paths, ['/bin/true']);
      const r = await raw.run(id, paths.dir);
      await raw.delete(id, true);
      if (r.code !== 0) throw new Error(`runc run exited ${r.code}: ${r.stderr.trim()}`);
    } finally {
      await raw.release(paths);
    }
  };
  const total = { paddock: { done: 0, seconds: 0 }, raw: { done: 0, seconds: 0 } };
  for (let slice = 0; slice < slices; slice++) {
    for (const [name, cycle] of (slice % 2
      ? [
          ['raw', rawCycle],
          ['paddock', paddockCycle],
        ]
      : [
          ['paddock', paddockCycle],
          ['raw', rawCycle],
        ]) as Array<['paddock' | 'raw', () => Promise<void>]>) {
      const r = await runCycles(ctx, clients, sliceSeconds, cycle);
      total[name].done += r.done;
      total[name].seconds += r.seconds;
    }
  }
  return {
    perSecond: total.paddock.done / total.paddock.seconds,
    rawPerSecond: total.raw.done / total.raw.seconds,
    clients,
    seconds: total.paddock.seconds,
  };
}

export interface BurstOutcome {
  count: number;
  failed: number;
  /** From the first request to the last answer. */
  seconds: number;
  firstError?: string;
}

/**
 * A burst: `count` creates sent at once, every other one on the gVisor tier
 * (all on the container tier when this host has no runsc), each timed from
 * the burst's start to its own answer; then all are removed.
 */
export async function benchBurst(ctx: BenchContext, count: number, tiers: string[]): Promise<BurstOutcome> {
  const { daemon, samples } = ctx;
  const ids: string[] = [];
  const errors: string[] = [];
  const started = now();
  try {
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        try {
          const sb = await daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base', tier: tiers[i % tiers.length] });
          ids.push(sb.id);
          samples.add('burst.create', now() - started);
        } catch (err) {
          errors.push(err instanceof Error ? err.message : String(err));
        }
      }),
    );
    return { count, failed: errors.length, seconds: (now() - started) / 1000, ...(errors[0] ? { firstError: errors[0] } : {}) };
  } finally {
    await daemon.api.call('DELETE', '/v1/sandboxes');
  }
}

/**
 * The burst's floor: as many raw `runc run --detach` / `runsc run --detach`
 * of bundles made by the engine's parts (overlay, spec, Paddock's init),
 * started at once, each timed from the burst's start to its return.
 */
export async function benchRawBurst(ctx: BenchContext, count: number, tiers: string[]): Promise<void> {
  const { raw, samples } = ctx;
  const made: { id: string; tier: string; paths: SandboxPaths }[] = [];
  const started = now();
  try {
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const id = `bench-burst-${process.pid}-${i}`;
        const tier = tiers[i % tiers.length] as Tier;
        const paths = await raw.prepareRootfs(id);
        made.push({ id, tier, paths });
        await raw.writeSpec(id, paths, undefined, tier);
        await (tier === 'gvisor' ? raw.runscDetached(id, paths.dir) : raw.runDetached(id, paths.dir));
        samples.add('burst.raw', now() - started);
      }),
    );
  } finally {
    for (const { id, tier, paths } of made) {
      await (tier === 'gvisor' ? raw.deleteRunsc(id) : raw.delete(id, true)).catch(() => {});
      await raw.release(paths).catch(() => {});
    }
  }
}

export interface DensityOutcome {
  count: number;
  createSeconds: number;
  /** One DELETE /v1/sandboxes of them all, answered. */
  killAllSeconds: number;
  /** The daemon's RSS (MiB) just before that DELETE, and the most it reached while the DELETE ran (sampled every 50 ms). */
  killAllRssMiB: { before: number; peak: number };
}

/**
 * Density: many idle sandboxes at once, then the API's latency with all of
 * them alive (inspect and exec in sandboxes picked at random).
 */
export async function benchDensity(ctx: BenchContext, count: number): Promise<DensityOutcome> {
  const { daemon, samples } = ctx;
  const ids: string[] = [];
  const started = now();
  try {
    const clients = 4;
    let next = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < count) {
          next++;
          ctx.signal.throwIfAborted();
          const sb = await daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base', timeoutMs: 30 * 60_000 });
          ids.push(sb.id);
          if (ids.length % 100 === 0) ctx.progress(`  ${ids.length}/${count} idle sandboxes`);
        }
      }),
    );
    const createSeconds = (now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 200; i++) {
      const id = ids[Math.floor(Math.random() * ids.length)] as string;
      let t = now();
      await daemon.api.call('GET', `/v1/sandboxes/${id}`);
      samples.add('density.get', now() - t);
      t = now();
      await daemon.api.call<CommandResult>('POST', `/v1/sandboxes/${id}/exec`, { cmd: ['true'] });
      samples.add('density.exec', now() - t);
    }
    // A claim finds its pool's newest sandbox without reading every live one of the host.
    ctx.progress('  warm pool claims with all of them alive');
    await poolClaims(ctx, 10, async (_round, _sb, t0, t1) => {
      samples.add('density.claim', t1 - t0);
    });
    ctx.progress('  the dashboard in chromium with all of them listed');
    await benchDashboard(ctx, ids.length, 5);
    ctx.progress('  all of them killed with one DELETE /v1/sandboxes (the API asked meanwhile)');
    const rssMiB = () => procStatusBytes(daemon.endpoint.pid) / (1024 * 1024);
    const rss = { before: rssMiB(), peak: 0 };
    const sampler = setInterval(() => {
      rss.peak = Math.max(rss.peak, rssMiB());
    }, 50);
    let killing = true;
    // What a user of the API sees while the host is being emptied: GET /v1/health every 20 ms.
    const asking = (async () => {
      while (killing) {
        const t0 = now();
        await daemon.api.call('GET', '/v1/health');
        samples.add('density.killAll.health', now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // Awaited below; a failed call must not end the run as an unhandled rejection meanwhile.
    asking.catch(() => {});
    const t = now();
    try {
      await daemon.api.call('DELETE', '/v1/sandboxes', undefined, 30 * 60_000);
    } finally {
      killing = false;
      clearInterval(sampler);
      await asking;
    }
    const killAllSeconds = (now() - t) / 1000;
    rss.peak = Math.max(rss.peak, rssMiB());
    return { count: ids.length, createSeconds, killAllSeconds, killAllRssMiB: rss };
  } finally {
    await daemon.api.call('DELETE', '/v1/sandboxes', undefined, 30 * 60_000);
  }
}

/**
 * Memory checkpoints (CRIU) are the issue's stretch goal: the bench asks the
 * installed criu whether it can work on this kernel and reports the answer.
 */
export async function probeCriu(ctx: BenchContext): Promise<void> {
  const check = await timedSpawn('criu', ['check']).catch(() => null);
  if (!check) {
    ctx.notes.add('CRIU memory checkpoints: criu is not installed, so they were not tried.');
    return;
  }
  const version = (await timedSpawn('criu', ['--version']).catch(() => null))?.stdout.split('\n')[0] ?? 'criu';
  const lines = `${check.stdout}${check.stderr}`.split('\n');
  // The first error line that says what failed, not how criu exited.
  const problem = lines.find((l) => /Error/.test(l) && /[Ff]ail|not supported|unsupported/.test(l)) ?? lines.find((l) => /Error/.test(l));
  ctx.notes.add(
    check.code === 0
      ? `CRIU memory checkpoints: \`criu check\` passes (${version}); Paddock does not use it yet.`
      : `CRIU memory checkpoints do not work here: \`criu check\` (${version}) fails on this kernel: ${problem?.trim() ?? `exit ${check.code}`}. Paddock's checkpoints are of files; processes restart on rollback.`,
  );
}
