import type { AuditEntry, StatsSample } from '@paddock/core';
import type { EventBus } from '../events/event-bus.js';
import { LatencyHistogram } from './latency-histogram.js';

/** Samples kept: 30 minutes at the default 10 s. */
export const keptStats = 180;

export interface StatsRecorderDeps {
  bus: EventBus;
  /** Live sandboxes per owner (tenant) and state, read once per interval. */
  countByOwner: () => Array<{ owner: string; state: string; n: number }>;
  intervalMs: number;
  now?: () => number;
}

/** What one tenant did in the current interval. */
class Interval {
  readonly exec = new LatencyHistogram();
  readonly pool = { hits: 0, misses: 0 };
  readonly decisions = { allow: 0, deny: 0, ask: 0 };
  egressRefused = 0;
}

/** The statistics of the whole daemon are kept under this key (no tenant is named so: tenant names are lowercase). */
const everyone = '*';

/**
 * The daemon's charts: per interval, live sandboxes, exec latency, pool hits,
 * policy decisions and egress refusals, per tenant and for the whole daemon.
 * Counting is an increment on the request's path; a sample is made once per
 * interval, for the tenants that had anything.
 */
export class StatsRecorder {
  private readonly current = new Map<string, Interval>();
  private readonly history = new Map<string, StatsSample[]>();
  private readonly now: () => number;

  constructor(private readonly deps: StatsRecorderDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): () => void {
    const timer = setInterval(() => this.tick(), this.deps.intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Every governed action lands in the audit log: its decision, and an exec's time, are counted from there. */
  audited(entry: AuditEntry): void {
    // The egress proxy's decisions are counted by egressRefused, refusals left out of the audit log too.
    if (entry.action === 'network.connect') return;
    for (const interval of this.intervalsOf(entry.tenant)) {
      interval.decisions[entry.decision] += 1;
      if (entry.action === 'sandbox.exec' && entry.outcome === 'ok' && entry.durationMs !== null) interval.exec.record(entry.durationMs);
    }
  }

  poolClaim(tenant: string, hit: boolean): void {
    for (const interval of this.intervalsOf(tenant)) interval.pool[hit ? 'hits' : 'misses'] += 1;
  }

  egressRefusal(tenant: string): void {
    for (const interval of this.intervalsOf(tenant)) interval.egressRefused += 1;
  }

  tick(): void {
    const at = new Date(this.now()).toISOString();
    const live = new Map<string, { running: number; paused: number }>();
    const count = (key: string, state: string, n: number) => {
      const counts = live.get(key) ?? { running: 0, paused: 0 };
      if (state === 'running' || state === 'paused') counts[state] += n;
      live.set(key, counts);
    };
    for (const row of this.deps.countByOwner()) {
      count(row.owner, row.state, row.n);
      count(everyone, row.state, row.n);
    }
    const byTenant = new Map<string, StatsSample>();
    for (const key of new Set([...live.keys(), ...this.current.keys(), ...this.history.keys(), everyone])) {
      const interval = this.current.get(key);
      const sample: StatsSample = {
        at,
        sandboxes: live.get(key) ?? { running: 0, paused: 0 },
        execMs: interval?.exec.percentiles() ?? null,
        pool: { ...(interval?.pool ?? { hits: 0, misses: 0 }) },
        decisions: { ...(interval?.decisions ?? { allow: 0, deny: 0, ask: 0 }) },
        egressRefused: interval?.egressRefused ?? 0,
      };
      this.keep(key, sample);
      if (key !== everyone) byTenant.set(key, sample);
    }
    this.current.clear();
    const all = this.history.get(everyone)?.at(-1);
    if (all && this.deps.bus.listening) this.deps.bus.publish({ topic: 'stats', byTenant, all });
  }

  /** The samples of one tenant, or of the whole daemon (undefined), oldest first. */
  historyOf(tenant: string | undefined): StatsSample[] {
    return [...(this.history.get(tenant ?? everyone) ?? [])];
  }

  private keep(key: string, sample: StatsSample): void {
    let list = this.history.get(key);
    if (!list) {
      list = [];
      this.history.set(key, list);
    }
    list.push(sample);
    if (list.length > keptStats) list.shift();
    // A tenant quiet for the whole window is forgotten (a deleted one, or a test's).
    if (key !== everyone && list.length === keptStats && list.every(isQuiet)) this.history.delete(key);
  }

  private intervalsOf(tenant: string): Interval[] {
    return [this.intervalOf(tenant), this.intervalOf(everyone)];
  }

  private intervalOf(key: string): Interval {
    let interval = this.current.get(key);
    if (!interval) {
      interval = new Interval();
      this.current.set(key, interval);
    }
    return interval;
  }
}

function isQuiet(s: StatsSample): boolean {
  return (
    s.sandboxes.running + s.sandboxes.paused + s.pool.hits + s.pool.misses + s.decisions.allow + s.decisions.deny + s.decisions.ask + s.egressRefused === 0 &&
    s.execMs === null
  );
}
