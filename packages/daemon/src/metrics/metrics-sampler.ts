import type { MetricsSample, SandboxMetrics } from '@paddock/core';
import type { ResourceLimits, ResourceUsage, UsageCounters } from '@paddock/engine';
import type { EventBus, SandboxSample } from '../events/event-bus.js';
import type { EgressTotals } from '../network/connection-log.js';
import { SampleRing } from './sample-ring.js';

/** Readings kept per sandbox: five minutes at the default 2 s. */
export const keptSamples = 150;

/**
 * Sandboxes read in one turn of the event loop. A reading costs tens of
 * microseconds (cpu.stat walks per-CPU counters): with 2,000 sandboxes alive,
 * one tick read at once held every request up for ~50 ms every two seconds.
 */
const sandboxesPerTurn = 100;

export interface MetricsSamplerDeps {
  /** Running sandboxes (paused ones are frozen: nothing of theirs moves). */
  running: () => Array<{ id: string; owner: string; metadata: Record<string, string> }>;
  /** Opens the kernel's counters of one sandbox; undefined when it has no cgroup. */
  openCounters: (id: string) => UsageCounters | undefined;
  /** The limits the kernel enforces on it (read once per sandbox: they are set when it is made). */
  limits: (id: string) => ResourceLimits | undefined;
  egress: (id: string) => EgressTotals;
  bus: EventBus;
  intervalMs: number;
  now?: () => number;
}

interface Track {
  readings: SampleRing;
  limits: ResourceLimits;
  /** Its cgroup's counter files, open while it lives. */
  counters: UsageCounters | undefined;
  /** The previous reading's CPU time and when it was taken, for cpuPercent. */
  lastCpuUsec: number;
  lastAt: number;
}

/**
 * Reads every running sandbox's cgroup once per tick (one timer for all of
 * them; three counter files each, kept open and read in place; its limits
 * once) and keeps the last readings in memory. An idle
 * daemon with many sandboxes pays a few reads per sandbox per tick; nothing
 * is kept for a sandbox once it ends.
 */
export class MetricsSampler {
  private readonly tracks = new Map<string, Track>();
  private readonly now: () => number;
  /** While a tick runs: the sandboxes that ended since it began. */
  private ended: Set<string> | undefined;

  constructor(private readonly deps: MetricsSamplerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Starts the ticks; returns how to stop them. */
  start(): () => void {
    const timer = setInterval(() => void this.tick(), this.deps.intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Reads every running sandbox, a slice per turn of the event loop; a tick still reading when the next is due skips it. */
  async tick(): Promise<void> {
    if (this.ended) return;
    this.ended = new Set();
    try {
      const at = this.now();
      const iso = new Date(at).toISOString();
      const samples: SandboxSample[] = [];
      const running = this.deps.running();
      for (let i = 0; i < running.length; i++) {
        if (i > 0 && i % sandboxesPerTurn === 0) await new Promise((resolve) => setImmediate(resolve));
        const sandbox = running[i] as (typeof running)[number];
        // Ended while this tick waited for its turn: nothing of it is read or kept again.
        if (this.ended.has(sandbox.id)) continue;
        const track = this.trackOf(sandbox.id);
        const usage = this.read(sandbox.id, track);
        if (!usage) continue;
        samples.push({ ...sandbox, sample: this.record(sandbox.id, track, usage, at, iso) });
      }
      if (this.deps.bus.listening) this.deps.bus.publish({ topic: 'metrics', samples });
    } finally {
      this.ended = undefined;
    }
  }

  private trackOf(id: string): Track {
    let track = this.tracks.get(id);
    if (!track) {
      const limits = this.deps.limits(id) ?? { memoryLimitBytes: null, pidsLimit: null };
      track = { readings: new SampleRing(keptSamples), limits, counters: this.deps.openCounters(id), lastCpuUsec: 0, lastAt: 0 };
      this.tracks.set(id, track);
    }
    return track;
  }

  /** The counts now; a cgroup made anew (a rollback restarts the sandbox) is opened again once. */
  private read(id: string, track: Track): ResourceUsage | undefined {
    const usage = track.counters?.read();
    if (usage) return usage;
    track.counters?.close();
    track.counters = this.deps.openCounters(id);
    return track.counters?.read();
  }

  private record(id: string, track: Track, usage: ResourceUsage, at: number, iso: string): MetricsSample {
    const elapsedUsec = track.lastAt ? (at - track.lastAt) * 1000 : 0;
    const cpuPercent = elapsedUsec > 0 ? round1((Math.max(0, usage.cpuUsageUsec - track.lastCpuUsec) / elapsedUsec) * 100) : 0;
    const egress = this.deps.egress(id);
    const sample: MetricsSample = {
      at: iso,
      cpuPercent,
      cpuUsageUsec: usage.cpuUsageUsec,
      memoryBytes: usage.memoryBytes,
      memoryLimitBytes: track.limits.memoryLimitBytes,
      pids: usage.pids,
      pidsLimit: track.limits.pidsLimit,
      netRxBytes: egress.rxBytes,
      netTxBytes: egress.txBytes,
      egressAllowed: egress.allowed,
      egressRefused: egress.refused,
    };
    track.lastCpuUsec = usage.cpuUsageUsec;
    track.lastAt = at;
    track.readings.push(at, sample);
    return sample;
  }

  /** The sandbox's readings, oldest first; empty before its first tick. */
  metrics(id: string): SandboxMetrics {
    const track = this.tracks.get(id);
    const history = track ? track.readings.samples(track.limits) : [];
    return { sandboxId: id, current: history.at(-1) ?? null, history };
  }

  /** The sandbox ended: its readings go, its counter files close. */
  forget(id: string): void {
    this.ended?.add(id);
    this.tracks.get(id)?.counters?.close();
    this.tracks.delete(id);
  }

  /** The daemon stops: every counter file closes. */
  closeAll(): void {
    for (const id of [...this.tracks.keys()]) this.forget(id);
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
