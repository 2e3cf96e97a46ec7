import type { ProbeResult, Tier } from '@paddock/core';
import type { ConnectionOptions } from '../api-client.js';
import { Sandbox } from '../sandbox.js';
import { egressProbes } from './egress-probes.js';
import { escapeProbes } from './escape-probes.js';
import { exhaustionProbes } from './exhaustion-probes.js';
import { filesProbes } from './files-probes.js';
import type { Probe, ProbeContext } from './probe.js';
import { secretsProbes } from './secrets-probes.js';

/** The catalogue's in-sandbox attacks that run against any daemon (docs/check.md lists them). */
export const probes: readonly Probe[] = [...escapeProbes, ...filesProbes, ...egressProbes, ...secretsProbes, ...exhaustionProbes];

export interface RunProbesOptions {
  conn: ConnectionOptions;
  tiers: readonly Tier[];
  /** Default: every probe. */
  only?: readonly Probe[];
  /** Probes running at once per tier (tiers run side by side). */
  concurrency?: number;
  /** Called as each probe ends. */
  onResult?: (result: ProbeResult, done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Labels every sandbox a probe makes, so an operator can find one a killed run left behind. */
export const probeLabel = { 'paddock-check': 'probe' };
/** A probe's sandbox ends by itself this long after it was made, should the run be killed before its cleanup. */
const probeSandboxTimeoutMs = 10 * 60_000;

/**
 * A context whose sandboxes are all killed by `close()`, which the runner
 * calls however the run ends (an error, an abort, Ctrl-C). A sandbox whose
 * create was under way when it closed is killed as soon as it exists.
 */
export function probeContext(conn: ConnectionOptions, tier: Tier, signal?: AbortSignal): ProbeContext & { close(): Promise<void> } {
  const made: Array<Promise<Sandbox>> = [];
  let shared: Promise<Sandbox> | undefined;
  let closed = false;
  const kill = (p: Promise<Sandbox>) => p.then((sbx) => sbx.kill({ timeoutMs: 60_000 })).catch(() => {});
  const create: ProbeContext['create'] = async (options = {}) => {
    if (closed || signal?.aborted) throw new Error('the probe run was stopped');
    // No signal on the create itself: an aborted request could leave a sandbox nobody holds.
    const pending = Sandbox.create({ timeoutMs: probeSandboxTimeoutMs, ...options, ...conn, tier, metadata: { ...probeLabel, ...options.metadata } });
    made.push(pending);
    const sbx = await pending;
    if (closed) {
      await kill(pending);
      throw new Error('the probe run was stopped');
    }
    return sbx;
  };
  return {
    tier,
    conn,
    signal,
    create,
    shared() {
      shared ??= create();
      return shared;
    },
    async close() {
      closed = true;
      await Promise.all(made.map(kill));
    },
  };
}

/** Runs each probe on each tier it applies to; every sandbox made is killed before this returns or throws. */
export async function runProbes(options: RunProbesOptions): Promise<ProbeResult[]> {
  const selected = options.only ?? probes;
  const jobs = options.tiers.flatMap((tier) => selected.filter((p) => p.tiers.includes(tier)).map((probe) => ({ tier, probe })));
  const results: ProbeResult[] = [];
  const contexts = options.tiers.map((tier) => probeContext(options.conn, tier, options.signal));
  // Ctrl-C: kill every sandbox now, which ends the commands probes wait on.
  const stop = () => void Promise.all(contexts.map((ctx) => ctx.close()));
  options.signal?.addEventListener('abort', stop, { once: true });
  const settled = await Promise.allSettled(
    contexts.map(async (ctx) => {
      try {
        const queue = jobs.filter((j) => j.tier === ctx.tier);
        const workers = Array.from({ length: options.concurrency ?? 3 }, async () => {
          for (let job = queue.shift(); job; job = queue.shift()) {
            options.signal?.throwIfAborted();
            const result = await runOne(job.probe, ctx);
            results.push(result);
            options.onResult?.(result, results.length, jobs.length);
          }
        });
        await Promise.all(workers);
      } finally {
        await ctx.close();
      }
    }),
  );
  options.signal?.removeEventListener('abort', stop);
  options.signal?.throwIfAborted();
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const order = (r: ProbeResult) => selected.findIndex((p) => p.id === r.id) * 10 + options.tiers.indexOf(r.tier as Tier);
  return results.sort((a, b) => order(a) - order(b));
}

/**
 * One probe on one tier. A tier this daemon lacks makes it not applicable; any
 * other error counts as broken, with the error as evidence: a security check
 * that cannot tell must not say held.
 */
async function runOne(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  const started = Date.now();
  const base = { id: probe.id, title: probe.title, class: probe.class, tier: ctx.tier };
  try {
    const outcome = await probe.run(ctx);
    return { ...base, ...outcome, durationMs: Date.now() - started };
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    const e = err as { code?: string; message?: string };
    const text = `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`;
    const status = e.code === 'tier_unavailable' ? 'not-applicable' : 'broken';
    return { ...base, status, evidence: status === 'broken' ? `the probe failed: ${text}` : text, durationMs: Date.now() - started };
  }
}
