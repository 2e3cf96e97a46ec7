import { join } from 'node:path';
import type { CommandResult, SandboxInfo } from '@paddock/core';
import { AgentClient, gvisorRuntimeFlags } from '@paddock/engine';
import { agentSocketOf } from './bench-daemon.js';
import { agentRun, type BenchContext, expectHi, timedCreateCycle } from './benchmarks.js';
import { rotated } from './stats.js';
import { timedSpawnOk } from './timed-spawn.js';

const now = () => performance.now();
let serial = 0;
const nextId = (prefix: string) => `${prefix}-${process.pid}-${++serial}`;

/**
 * gVisor tier: cold create → first output → kill through the API against raw
 * `runsc run` on the same overlay and bundle (same flags), interleaved.
 */
export async function benchGvisorCreate(ctx: BenchContext): Promise<void> {
  const { daemon, raw, samples } = ctx;
  const preparedId = nextId('bench-gv-prepared');
  const prepared = await raw.prepareRootfs(preparedId);
  await raw.writeSpec(preparedId, prepared, ['/bin/echo', 'hi'], 'gvisor');
  const variants: Array<{ name: string; run: (record: boolean) => Promise<void> }> = [
    {
      name: 'paddock',
      run: async (record) => {
        const cycle = await timedCreateCycle(daemon.api, { template: 'base', tier: 'gvisor' }, 'paddock gvisor exec');
        if (!record) return;
        for (const step of ['firstOutput', 'create', 'exec', 'delete', 'full'] as const) samples.add(`gvisor.paddock.${step}`, cycle[step]);
      },
    },
    {
      name: 'runscOverlay',
      run: async (record) => {
        const id = nextId('bench-gv-overlay');
        const t0 = now();
        const paths = await raw.prepareRootfs(id);
        await raw.writeSpec(id, paths, ['/bin/echo', 'hi'], 'gvisor');
        const t1 = now();
        const r = await raw.runRunsc(id, paths.dir);
        await raw.deleteRunsc(id);
        await raw.release(paths);
        const t2 = now();
        if (r.code !== 0) throw new Error(`runsc run exited ${r.code}: ${r.stderr.trim()}`);
        expectHi('runsc run', r.stdout);
        if (!record) return;
        samples.add('gvisor.runscOverlay.firstOutput', t1 - t0 + (r.firstOutputMs ?? Number.NaN));
        samples.add('gvisor.runscOverlay.full', t2 - t0);
      },
    },
    {
      name: 'runscPrepared',
      run: async (record) => {
        const id = nextId('bench-gv-run');
        const t0 = now();
        const r = await raw.runRunsc(id, prepared.dir);
        await raw.deleteRunsc(id);
        const t1 = now();
        if (r.code !== 0) throw new Error(`runsc run exited ${r.code}: ${r.stderr.trim()}`);
        expectHi('runsc run (prepared bundle)', r.stdout);
        if (!record) return;
        samples.add('gvisor.runscPrepared.firstOutput', r.firstOutputMs ?? Number.NaN);
        samples.add('gvisor.runscPrepared.full', t1 - t0);
      },
    },
  ];
  const rounds = ctx.config.warmup + ctx.config.createIterations;
  for (let round = 0; round < rounds; round++) {
    for (const v of rotated(variants, round)) {
      ctx.signal.throwIfAborted();
      try {
        await v.run(round >= ctx.config.warmup);
      } catch (err) {
        throw new Error(`gVisor create, ${v.name}, round ${round + 1}: ${(err as Error).message}`);
      }
    }
    const done = round + 1 - ctx.config.warmup;
    if (done > 0 && (done % 10 === 0 || done === ctx.config.createIterations)) ctx.progress(`  ${done}/${ctx.config.createIterations} rounds`);
  }
  await raw.release(prepared);
}

/** gVisor tier: `true` in a running sandbox through the API, the agent socket, and `runsc exec`. */
export async function benchGvisorExec(ctx: BenchContext): Promise<void> {
  const { daemon, samples } = ctx;
  const sb = await daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base', tier: 'gvisor', timeoutMs: 30 * 60_000 });
  try {
    const agent = new AgentClient(agentSocketOf(daemon, sb.id), sb.id);
    const runscRoot = join(daemon.stateDir, 'runsc');
    const variants: Array<{ name: string; run: () => Promise<void> }> = [
      {
        name: 'http',
        run: async () => {
          const r = await daemon.api.call<CommandResult>('POST', `/v1/sandboxes/${sb.id}/exec`, { cmd: ['true'] });
          if (r.exitCode !== 0) throw new Error(`exec true exited ${r.exitCode}`);
        },
      },
      {
        name: 'agent',
        run: async () => {
          const r = await agentRun(agent, ['true']);
          if (r.exitCode !== 0) throw new Error(`agent exec true exited ${r.exitCode}`);
        },
      },
      {
        name: 'runscExec',
        run: async () => {
          await timedSpawnOk('runsc', [...gvisorRuntimeFlags, '--root', runscRoot, 'exec', sb.id, 'true']);
        },
      },
    ];
    const warmup = ctx.config.warmup * 5;
    const n = Math.max(10, Math.round(ctx.config.execIterations / 4));
    for (let round = 0; round < warmup + n; round++) {
      for (const v of rotated(variants, round)) {
        ctx.signal.throwIfAborted();
        const t = now();
        await v.run();
        if (round >= warmup) samples.add(`gvisorExec.${v.name}`, now() - t);
      }
    }
  } finally {
    await daemon.api.call('DELETE', `/v1/sandboxes/${sb.id}`);
  }
}
