import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type CommandResult, defaultLimits, type SandboxInfo } from '@paddock/core';
import { AgentClient, type CallOptions, type OciRuntime, type RuntimeAdapter, type RuntimeState, releaseRootfs, type SandboxEngine } from '@paddock/engine';
import { Sandbox } from '@paddock/sdk';
import { agentSocketOf, type BenchDaemon, cliMain, HttpApi } from './bench-daemon.js';
import type { BenchConfig } from './config.js';
import { type CgroupMemory, hostKernelBytes, hostUsedBytes, meminfo, memoryCgroupDir, procPssBytes, procStatusBytes, readCgroupMemory } from './memory.js';
import { type NodeExecFloor, startNodeExecFloor } from './node-exec-floor.js';
import type { RawRunc } from './raw-runc.js';
import { timeInRuns } from './runs-of-calls.js';
import { rotated, type Samples } from './stats.js';
import { capture, sleep, timedSpawn, timedSpawnOk } from './timed-spawn.js';
import { startBenchPool } from './warm-pool.js';

export interface BenchContext {
  config: BenchConfig;
  daemon: BenchDaemon;
  raw: RawRunc;
  /** The engine in-process, on the bench's own runc root: Paddock without HTTP, database or daemon. */
  engine: SandboxEngine;
  runtime: TimedRuntime;
  baseLayer: string;
  samples: Samples;
  /** Whether bwrap is installed; its row is skipped otherwise. */
  bwrap: boolean;
  progress: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM; every loop checks it between steps. */
  signal: AbortSignal;
  /** Facts noticed while measuring, for the report. */
  notes: Set<string>;
}

const now = () => performance.now();
/** About as long as `runc run` keeps a cold create's daemon waiting here (~32 ms). */
const idleLikeARuncRunMs = 35;
/** Rounds of the after-idle exec ways: the first warms up, three are kept (60 calls a way). */
const afterIdleRounds = 4;
export const expectHi = (what: string, out: string) => {
  if (out !== 'hi\n') throw new Error(`${what} printed ${JSON.stringify(out)} instead of "hi\\n"`);
};

/** How long each step of a cold create → `echo hi` → delete took through the API (ms). */
export interface CreateCycle {
  create: number;
  exec: number;
  firstOutput: number;
  delete: number;
  full: number;
}

/** A cold create with `body`, `echo hi` in it, and its delete, each step timed; `what` names it if echo printed anything else. */
export async function timedCreateCycle(api: HttpApi, body: Record<string, unknown>, what: string): Promise<CreateCycle> {
  const t0 = now();
  const sb = await api.call<SandboxInfo>('POST', '/v1/sandboxes', body);
  const t1 = now();
  const result = await api.call<CommandResult>('POST', `/v1/sandboxes/${sb.id}/exec`, { cmd: ['echo', 'hi'] });
  const t2 = now();
  await api.call('DELETE', `/v1/sandboxes/${sb.id}`);
  const t3 = now();
  expectHi(what, result.stdout);
  return { create: t1 - t0, exec: t2 - t1, firstOutput: t2 - t0, delete: t3 - t2, full: t3 - t0 };
}

/** Wraps the engine's runc adapter to time its run and delete calls from inside SandboxEngine. */
export class TimedRuntime implements RuntimeAdapter {
  readonly name: string;
  readonly endsWithItsCgroup: boolean | undefined;
  runStartedAt = 0;
  runEndedAt = 0;
  lastDeleteMs = 0;

  constructor(private readonly inner: OciRuntime) {
    this.name = inner.name;
    this.endsWithItsCgroup = inner.endsWithItsCgroup;
  }

  async run(id: string, bundleDir: string, options?: CallOptions): Promise<void> {
    this.runStartedAt = now();
    try {
      await this.inner.run(id, bundleDir, options);
    } finally {
      this.runEndedAt = now();
    }
  }

  async delete(id: string, options?: CallOptions & { force?: boolean; killed?: boolean }): Promise<void> {
    const t = now();
    try {
      await this.inner.delete(id, options);
    } finally {
      this.lastDeleteMs = now() - t;
    }
  }

  exec(id: string, args: string[], options?: CallOptions) {
    return this.inner.exec(id, args, options);
  }
  pause(id: string, options?: CallOptions) {
    return this.inner.pause(id, options);
  }
  resume(id: string, options?: CallOptions) {
    return this.inner.resume(id, options);
  }
  kill(id: string, signal: string, options?: CallOptions) {
    return this.inner.kill(id, signal, options);
  }
  state(id: string, options?: CallOptions): Promise<RuntimeState | null> {
    return this.inner.state(id, options);
  }
  list(options?: CallOptions): Promise<RuntimeState[]> {
    return this.inner.list(options);
  }
}

/** Runs a command through an agent as the daemon's ProcessManager does (stdin closed, cwd /work). */
export async function agentRun(agent: AgentClient, cmd: string[]): Promise<{ stdout: string; exitCode: number; firstOutputAt: number | null }> {
  const chunks: Buffer[] = [];
  let firstOutputAt: number | null = null;
  const session = await agent.exec(
    { cmd, env: [], cwd: '/work' },
    {
      onStdout: (d) => {
        firstOutputAt ??= now();
        chunks.push(d);
      },
    },
    { timeoutMs: 10_000 },
  );
  session.closeStdin();
  const exit = await session.exited;
  return { stdout: Buffer.concat(chunks).toString(), exitCode: exit.exitCode, firstOutputAt };
}

let serial = 0;
const nextId = (prefix: string) => `${prefix}-${process.pid}-${++serial}`;

/**
 * 1. Cold create → first output → kill. Every round runs each variant once, in
 * a rotating order, so drift on the machine touches all variants alike.
 */
export async function benchColdCreate(ctx: BenchContext): Promise<void> {
  const { daemon, raw, engine, runtime, samples, baseLayer } = ctx;
  const api = daemon.api;

  // A prepared bundle for the "pure runc run" variant: overlay mounted once, reused each round.
  const preparedId = nextId('bench-prepared');
  const prepared = await raw.prepareRootfs(preparedId);
  await raw.writeSpec(preparedId, prepared, ['/bin/echo', 'hi']);

  type Variant = { name: string; run: (record: boolean) => Promise<void> };
  const variants: Variant[] = [
    {
      name: 'paddock',
      run: async (record) => {
        const cycle = await timedCreateCycle(api, { template: 'base' }, 'paddock exec');
        if (!record) return;
        for (const step of ['firstOutput', 'full', 'create', 'exec', 'delete'] as const) samples.add(`paddock.${step}`, cycle[step]);
      },
    },
    {
      // The same create with its writable layer on disk (an ext4 image on a loop device) instead of a tmpfs.
      name: 'paddockDisk',
      run: async (record) => {
        const cycle = await timedCreateCycle(api, { template: 'base', writableLayer: 'disk' }, 'paddock exec, disk-backed');
        if (!record) return;
        samples.add('paddockDisk.firstOutput', cycle.firstOutput);
        samples.add('paddockDisk.full', cycle.full);
      },
    },
    {
      name: 'engine',
      run: async (record) => {
        const id = nextId('bench-engine');
        const t0 = now();
        await engine.launch({ id, tier: 'container', layers: [baseLayer], limits: defaultLimits });
        const t1 = now();
        const { runStartedAt, runEndedAt } = runtime;
        const out = await agentRun(engine.agent(id), ['echo', 'hi']);
        const t2 = out.firstOutputAt ?? now();
        const t2b = now();
        await engine.destroy(id);
        const t3 = now();
        expectHi('engine exec', out.stdout);
        if (!record) return;
        samples.add('engine.firstOutput', t2 - t0);
        samples.add('engine.full', t3 - t0);
        samples.add('engine.launch', t1 - t0);
        samples.add('engine.prepare', runStartedAt - t0);
        samples.add('engine.runcRun', runEndedAt - runStartedAt);
        samples.add('engine.agentReady', t1 - runEndedAt);
        samples.add('engine.exec', t2b - t1);
        samples.add('engine.destroy', t3 - t2b);
        samples.add('engine.runcDelete', runtime.lastDeleteMs);
        samples.add('engine.release', t3 - t2b - runtime.lastDeleteMs);
      },
    },
    {
      name: 'runcOverlay',
      run: async (record) => {
        const id = nextId('bench-overlay');
        const t0 = now();
        const paths = await raw.prepareRootfs(id);
        await raw.writeSpec(id, paths, ['/bin/echo', 'hi']);
        const t1 = now();
        const r = await raw.run(id, paths.dir);
        const t2 = now();
        const d = await raw.delete(id);
        const t3 = now();
        await raw.release(paths);
        const t4 = now();
        if (r.code !== 0) throw new Error(`runc run exited ${r.code}: ${r.stderr.trim()}`);
        expectHi('runc run', r.stdout);
        if (!record) return;
        samples.add('runcOverlay.firstOutput', t1 - t0 + (r.firstOutputMs ?? Number.NaN));
        samples.add('runcOverlay.full', t4 - t0);
        samples.add('runcOverlay.prepare', t1 - t0);
        samples.add('runcOverlay.spawnToFirstOutput', r.firstOutputMs ?? Number.NaN);
        samples.add('runcOverlay.run', t2 - t1);
        samples.add('runcOverlay.delete', t3 - t2);
        samples.add('runcOverlay.release', t4 - t3);
        if (d.code === 0) ctx.notes.add('`runc delete` after a foreground `runc run` still found the container to remove.');
      },
    },
    {
      name: 'runcPrepared',
      run: async (record) => {
        const id = nextId('bench-run');
        const t0 = now();
        const r = await raw.run(id, prepared.dir);
        const t1 = now();
        await raw.delete(id);
        const t2 = now();
        if (r.code !== 0) throw new Error(`runc run exited ${r.code}: ${r.stderr.trim()}`);
        expectHi('runc run (prepared bundle)', r.stdout);
        if (!record) return;
        samples.add('runcPrepared.firstOutput', r.firstOutputMs ?? Number.NaN);
        samples.add('runcPrepared.run', t1 - t0);
        samples.add('runcPrepared.delete', t2 - t1);
        samples.add('runcPrepared.full', t2 - t0);
      },
    },
    ...(ctx.bwrap
      ? [
          {
            name: 'bwrap',
            run: async (record: boolean) => {
              const r = await timedSpawnOk('bwrap', ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '/bin/echo', 'hi']);
              expectHi('bwrap', r.stdout);
              if (!record) return;
              samples.add('bwrap.firstOutput', r.firstOutputMs ?? Number.NaN);
              samples.add('bwrap.full', r.totalMs);
            },
          },
        ]
      : []),
    {
      name: 'spawn',
      run: async (record) => {
        const r = await timedSpawnOk('/bin/echo', ['hi']);
        expectHi('spawn', r.stdout);
        if (!record) return;
        samples.add('spawn.firstOutput', r.firstOutputMs ?? Number.NaN);
        samples.add('spawn.full', r.totalMs);
      },
    },
  ];

  const { warmup, createIterations } = ctx.config;
  const total = warmup + createIterations;
  for (let round = 0; round < total; round++) {
    for (const v of rotated(variants, round)) {
      ctx.signal.throwIfAborted();
      try {
        await v.run(round >= warmup);
      } catch (err) {
        throw new Error(`cold create, ${v.name}, round ${round + 1}: ${(err as Error).message}`);
      }
    }
    const done = round + 1 - warmup;
    if (done > 0 && (done % 10 === 0 || done === createIterations)) ctx.progress(`  ${done}/${createIterations} rounds`);
  }
  await raw.delete(preparedId, true);
  await raw.release(prepared);
}

/**
 * Where DELETE's time goes, on identical running sandboxes (tini + agent)
 * started by the engine: plain `runc delete --force`; the engine's own
 * teardown (OciRuntime.delete with force, what DELETE /v1/sandboxes/{id}
 * uses); and the same idea done by hand with each step timed.
 */
export async function benchTeardown(ctx: BenchContext): Promise<void> {
  const { engine, raw, runtime, samples, baseLayer } = ctx;
  const { warmup, teardownIterations } = ctx.config;
  for (let round = 0; round < warmup + teardownIterations; round++) {
    ctx.signal.throwIfAborted();
    const record = round >= warmup;
    const ids = [nextId('bench-td'), nextId('bench-td'), nextId('bench-td')] as const;
    try {
      for (const id of ids) await engine.launch({ id, tier: 'container', layers: [baseLayer], limits: defaultLimits });
      const steps = [
        async () => {
          const t = now();
          await raw.delete(ids[0], true);
          if (record) samples.add('teardown.deleteForce', now() - t);
        },
        async () => {
          const t = now();
          await runtime.delete(ids[1], { force: true });
          if (record) samples.add('teardown.engine', now() - t);
        },
        async () => {
          const id = ids[2];
          const state = await engine.state(id);
          if (!state?.pid) throw new Error(`sandbox ${id} has no init pid`);
          const t0 = now();
          await timedSpawnOk('runc', ['--root', raw.runcRoot, 'kill', id, 'KILL']);
          const t1 = now();
          await waitForExit(state.pid, 10_000);
          const t2 = now();
          await raw.delete(id);
          const t3 = now();
          if (!record) return;
          samples.add('teardown.killWaitDelete', t3 - t0);
          samples.add('teardown.kill', t1 - t0);
          samples.add('teardown.wait', t2 - t1);
          samples.add('teardown.delete', t3 - t2);
        },
      ];
      for (const step of rotated(steps, round)) await step();
      const t = now();
      await releaseRootfs(engine.paths(ids[0]));
      if (record) samples.add('teardown.release', now() - t);
    } finally {
      for (const id of ids) await engine.destroy(id);
    }
  }
}

/** Polls /proc until the process is gone or a zombie (1 ms steps). */
async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  for (;;) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (/^\d+ \(.*\) [ZX]/.test(stat)) return;
    } catch {
      return;
    }
    if (now() > deadline) throw new Error(`process ${pid} still alive after ${timeoutMs} ms`);
    await sleep(1);
  }
}

/** 2. `true` in a running sandbox: API, SDK, agent socket, runc exec, and a plain spawn. */
export async function benchExec(ctx: BenchContext): Promise<void> {
  const { daemon } = ctx;
  const api = daemon.api;
  // No network: `runc exec` cannot join a proxy-network sandbox (its namespace belongs to the host's user namespace, and
  // runc joins the container's user namespace first: setns EPERM). The exec path itself does not touch the network.
  const sb = await api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base', timeoutMs: 30 * 60_000, network: { mode: 'none' } });
  let floor: NodeExecFloor | undefined;
  let stopFloor = () => {};
  try {
    const socket = agentSocketOf(daemon, sb.id);
    const agent = new AgentClient(socket, sb.id);
    const sdk = await Sandbox.connect(sb.id, { url: daemon.endpoint.url, token: daemon.token });
    floor = await startNodeExecFloor(daemon.stateDir, socket, sb.id);
    const floorApi = new HttpApi(floor.url, '');
    stopFloor = () => floorApi.close();
    const floorExecTrue = async () => {
      const r = await floorApi.call<CommandResult>('POST', '/exec', { cmd: ['true'] });
      if (r.exitCode !== 0) throw new Error(`exec true through the floor server exited ${r.exitCode}`);
    };
    // In runs of calls per way, as a client makes them (each way's first run warms it up).
    const daemonPid = daemon.endpoint.pid;
    await timeInRuns(ctx, 'exec', [
      { name: 'http', run: () => execTrue(api, sb.id), serverPid: daemonPid },
      {
        name: 'sdk',
        serverPid: daemonPid,
        run: async () => {
          const r = await sdk.commands.runAllowingFailure(['true']);
          if (r.exitCode !== 0) throw new Error(`sdk run true exited ${r.exitCode}`);
        },
      },
      { name: 'nodeFloor', serverPid: floor.pid, run: floorExecTrue },
      {
        name: 'agent',
        run: async () => {
          const r = await agentRun(agent, ['true']);
          if (r.exitCode !== 0) throw new Error(`agent exec true exited ${r.exitCode}`);
        },
      },
      {
        name: 'runcExec',
        run: async () => {
          await timedSpawnOk('runc', ['--root', daemon.runcRoot, 'exec', sb.id, 'true']);
        },
      },
      {
        name: 'spawn',
        run: async () => {
          await timedSpawnOk('/bin/true', []);
        },
      },
    ]);
    // The same call after the machine lay still as long as a cold create's `runc run` keeps the daemon waiting:
    // this VM's CPUs wake slow, and a process with more code and data to bring back pays more (docs/benchmarks.md).
    await timeInRuns(
      ctx,
      'exec',
      [
        { name: 'httpAfterIdle', run: () => execTrue(api, sb.id), serverPid: daemonPid, idleBeforeMs: idleLikeARuncRunMs },
        { name: 'nodeFloorAfterIdle', run: floorExecTrue, serverPid: floor.pid, idleBeforeMs: idleLikeARuncRunMs },
      ],
      afterIdleRounds,
    );
  } finally {
    stopFloor();
    await floor?.stop();
    await api.call('DELETE', `/v1/sandboxes/${sb.id}`);
  }
}

async function execTrue(api: HttpApi, id: string): Promise<void> {
  const r = await api.call<CommandResult>('POST', `/v1/sandboxes/${id}/exec`, { cmd: ['true'] });
  if (r.exitCode !== 0) throw new Error(`exec true exited ${r.exitCode}`);
}

/** Untimed calls before the steady-state exec figure: V8 has then optimized the daemon's code on that path. */
export const steadyWarmUpCalls = 2000;

/**
 * The exec of the exec section once the daemon is warm: a new daemon's first
 * few thousand calls run partly unoptimized while V8's compiler threads
 * optimize its code (docs/benchmarks.md), and the exec section comes a few
 * hundred calls after its start. Run in the last section, so no other
 * section measures a daemon warmed by these calls. Not judged; shown beside
 * the exec row.
 */
export async function benchSteadyExec(ctx: BenchContext): Promise<void> {
  const api = ctx.daemon.api;
  const sb = await api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base', timeoutMs: 30 * 60_000, network: { mode: 'none' } });
  try {
    for (let i = 0; i < steadyWarmUpCalls; i++) {
      ctx.signal.throwIfAborted();
      await execTrue(api, sb.id);
    }
    for (let i = 0; i < ctx.config.execIterations; i++) {
      ctx.signal.throwIfAborted();
      const t = now();
      await execTrue(api, sb.id);
      ctx.samples.add('exec.httpSteady', now() - t);
    }
  } finally {
    await api.call('DELETE', `/v1/sandboxes/${sb.id}`);
  }
}

export type CliOutcome = { measured: true; leftRunning: number } | { measured: false; reason: string };

/** How many `base` sandboxes the pool `make up` sets keeps ready (the Makefile's WARM). */
const makeUpWarmPool = 2;

/**
 * `paddock run -- true` against the daemon as `make up` leaves it: its warm
 * pool serves the create. Each run starts with the pool full, as for a user
 * whose runs are not back to back (the pool's other rows do the same).
 */
async function benchCliWarm(ctx: BenchContext, args: string[], env: NodeJS.ProcessEnv): Promise<{ failed?: string }> {
  const pool = await startBenchPool(ctx.daemon.api, makeUpWarmPool);
  try {
    for (let round = 0; round < ctx.config.warmup + ctx.config.cliIterations; round++) {
      ctx.signal.throwIfAborted();
      await pool.full();
      const r = await timedSpawn(cliMain, args, { env, timeoutMs: 60_000 });
      if (r.code !== 0) return { failed: `\`paddock run -- true\` with a warm pool exited ${r.code ?? r.signal}: ${r.stderr.trim().slice(0, 300)}` };
      if (round >= ctx.config.warmup) ctx.samples.add('cli.paddockRunWarm', r.totalMs);
    }
    const { misses } = await pool.stats();
    if (misses > 0) ctx.notes.add(`the warm pool missed ${misses} of the warm \`paddock run\` creates`);
    return {};
  } finally {
    await pool.remove();
  }
}

/**
 * 3. `paddock run -- true` end to end, next to the cost of starting node at all; cold, then served by a warm pool.
 * The CLI is started as a user's shell starts it, as a program (its first line names Node), not as `node paddock.mjs`.
 */
export async function benchCli(ctx: BenchContext): Promise<CliOutcome> {
  const { daemon, samples } = ctx;
  if (!existsSync(cliMain)) return { measured: false, reason: `${cliMain} does not exist (the CLI is not built)` };
  const env = { ...process.env, PADDOCK_URL: daemon.endpoint.url, PADDOCK_TOKEN: daemon.token, PADDOCK_STATE_DIR: daemon.stateDir };
  const args = ['run', '--', 'true'];
  const trial = await timedSpawn(cliMain, args, { env, timeoutMs: 60_000 }).catch((err: Error) => err);
  if (trial instanceof Error) return { measured: false, reason: `paddock run could not start: ${trial.message}` };
  if (trial.code !== 0) {
    const why = (trial.stderr.trim() || trial.stdout.trim()).split('\n').slice(-2).join(' ').slice(0, 300);
    return { measured: false, reason: `\`paddock run -- true\` exited ${trial.code ?? trial.signal}: ${why || 'no output'}` };
  }
  const variants = [
    { name: 'cli.paddockRun', file: cliMain, args, optional: false },
    // --version loads the command table and nothing of any command: the CLI's own start. --help loads every command's code.
    { name: 'cli.paddockVersion', file: cliMain, args: ['--version'], optional: true },
    { name: 'cli.paddockHelp', file: cliMain, args: ['--help'], optional: true },
    { name: 'cli.nodeStartup', file: process.execPath, args: ['-e', ''], optional: false },
    // Node reads NODE_EXTRA_CA_CERTS's file before any script runs, which `paddock` avoids (paddock-launcher.mjs).
    ...(process.env.NODE_EXTRA_CA_CERTS
      ? [{ name: 'cli.nodeStartupNoExtraCa', file: process.execPath, args: ['-e', ''], optional: false, env: { ...env, NODE_EXTRA_CA_CERTS: undefined } }]
      : []),
  ];
  const dropped = new Set<string>();
  const n = ctx.config.cliIterations;
  for (let round = 0; round < ctx.config.warmup + n; round++) {
    for (const v of rotated(variants, round)) {
      ctx.signal.throwIfAborted();
      if (dropped.has(v.name)) continue;
      const r = await timedSpawn(v.file, v.args, { env: 'env' in v ? v.env : env, timeoutMs: 60_000 });
      if (r.code !== 0) {
        const why = `\`${v.file === cliMain ? 'paddock' : 'node'} ${v.args.join(' ')}\` exited ${r.code ?? r.signal} in round ${round + 1}: ${r.stderr.trim().slice(0, 300)}`;
        if (!v.optional) return { measured: false, reason: why };
        dropped.add(v.name);
        ctx.notes.add(`${v.name} dropped: ${why}`);
        continue;
      }
      if (round >= ctx.config.warmup) samples.add(v.name, r.totalMs);
    }
    const done = round + 1 - ctx.config.warmup;
    if (done > 0 && (done % 10 === 0 || done === n)) ctx.progress(`  ${done}/${n} runs`);
  }
  const { failed } = await benchCliWarm(ctx, args, env);
  if (failed) return { measured: false, reason: failed };
  // The CLI should kill its sandbox on the way out; count (and remove) any it left.
  const { sandboxes } = await daemon.api.call<{ sandboxes: SandboxInfo[] }>('GET', '/v1/sandboxes');
  if (sandboxes.length > 0) await daemon.api.call('DELETE', '/v1/sandboxes');
  return { measured: true, leftRunning: sandboxes.length };
}

export interface IdleMemory {
  sandboxes: number;
  /** Whether the daemon's readings were taken after a forced full GC (otherwise V8's timing adds noise). */
  daemonGcForced: boolean;
  /** Growth of the daemon's V8 heap in use per sandbox (after forced GCs), bytes. */
  daemonHeapDelta: number;
  processesPerSandbox: number;
  /** Per sandbox, bytes. */
  processRss: number;
  processPss: number;
  cgroupUsage: number;
  cgroupAnon: number;
  cgroupCache: number;
  cgroupShmem: number;
  cgroupKernel: number;
  daemonRssBefore: number;
  daemonRssAfter: number;
  daemonDelta: number;
  /** cgroup usage minus its anonymous memory, plus the daemon's growth: the headline figure. */
  beyondProcesses: number;
  /** Host-wide cross-check: growth of unreclaimable host memory (minus the bench's own growth), per sandbox. */
  hostUsedDelta: number;
  hostKernelDelta: number;
}

/** Median of five /proc/meminfo readings 100 ms apart, to damp the machine's own churn. */
async function hostSample(): Promise<{ used: number; kernel: number }> {
  const used: number[] = [];
  const kernel: number[] = [];
  for (let i = 0; i < 5; i++) {
    if (i) await sleep(100);
    const info = meminfo();
    used.push(hostUsedBytes(info));
    kernel.push(hostKernelBytes(info));
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
  return { used: median(used), kernel: median(kernel) };
}

/** 5. What N idle sandboxes cost the host, per sandbox. */
export async function benchIdleMemory(ctx: BenchContext): Promise<IdleMemory> {
  const { daemon } = ctx;
  const api = daemon.api;
  const n = ctx.config.idleSandboxes;
  await api.call('DELETE', '/v1/sandboxes');
  await sleep(1000);
  const pid = daemon.endpoint.pid;
  // Full GCs before both readings, so the delta is what the daemon keeps per sandbox, not V8's timing.
  let gcForced = true;
  const daemonReading = async (): Promise<{ rss: number; heap: number }> => {
    if (gcForced) {
      try {
        const heap = await daemon.forceGc();
        await sleep(300);
        return { rss: procStatusBytes(pid), heap: heap.heapUsed };
      } catch (err) {
        gcForced = false;
        ctx.notes.add(`forcing a GC in the daemon failed (${(err as Error).message}); its per-sandbox growth is a plain RSS difference`);
      }
    }
    return { rss: procStatusBytes(pid), heap: Number.NaN };
  };
  const daemonBefore = await daemonReading();
  const benchBefore = process.memoryUsage().rss;
  const hostBefore = await hostSample();
  const ids: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      ctx.signal.throwIfAborted();
      ids.push((await api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base', timeoutMs: 30 * 60_000 })).id);
    }
    await sleep(1500);
    const daemonAfter = await daemonReading();
    const benchAfter = process.memoryUsage().rss;
    const hostAfter = await hostSample();
    const groups: CgroupMemory[] = [];
    let rss = 0;
    let pss = 0;
    let procs = 0;
    for (const id of ids) {
      const state = JSON.parse(await capture('runc', ['--root', daemon.runcRoot, 'state', id])) as { pid: number };
      const dir = memoryCgroupDir(state.pid);
      if (!dir) throw new Error(`cannot find the memory cgroup of sandbox ${id}`);
      const cg = readCgroupMemory(dir);
      groups.push(cg);
      for (const p of cg.pids) {
        rss += procStatusBytes(p) || 0;
        pss += procPssBytes(p) || 0;
        procs++;
      }
    }
    const sum = (f: (g: CgroupMemory) => number) => groups.reduce((s, g) => s + (Number.isFinite(f(g)) ? f(g) : 0), 0) / n;
    const daemonDelta = (daemonAfter.rss - daemonBefore.rss) / n;
    const usage = sum((g) => g.usage);
    const anon = sum((g) => g.anon);
    return {
      sandboxes: n,
      daemonGcForced: gcForced,
      daemonHeapDelta: (daemonAfter.heap - daemonBefore.heap) / n,
      processesPerSandbox: procs / n,
      processRss: rss / n,
      processPss: pss / n,
      cgroupUsage: usage,
      cgroupAnon: anon,
      cgroupCache: sum((g) => g.cache),
      cgroupShmem: sum((g) => g.shmem),
      cgroupKernel: sum((g) => g.kernel),
      daemonRssBefore: daemonBefore.rss,
      daemonRssAfter: daemonAfter.rss,
      daemonDelta,
      beyondProcesses: usage - anon + daemonDelta,
      hostUsedDelta: (hostAfter.used - hostBefore.used - (benchAfter - benchBefore)) / n,
      hostKernelDelta: (hostAfter.kernel - hostBefore.kernel) / n,
    };
  } finally {
    await api.call('DELETE', '/v1/sandboxes');
  }
}
