import type { ResourceUsage } from '@paddock/engine';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EventBus, type LiveEvent } from '../events/event-bus.js';
import { MetricsSampler } from './metrics-sampler.js';

/** A sampler over `count` running sandboxes whose counters are plain numbers; `reads` lists the ids in the order read. */
function samplerOver(count: number) {
  const running = Array.from({ length: count }, (_, i) => ({ id: `sb-${i}`, owner: 'tenant:default', metadata: {} }));
  const reads: string[] = [];
  const bus = new EventBus(pino({ enabled: false }));
  const events: LiveEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const sampler = new MetricsSampler({
    running: () => running,
    openCounters: (id) => ({
      read: (): ResourceUsage => {
        reads.push(id);
        return { cpuUsageUsec: 1000, memoryBytes: 4096, pids: 2 };
      },
      close: () => {},
    }),
    limits: () => ({ memoryLimitBytes: null, pidsLimit: null }),
    egress: () => ({ rxBytes: 0, txBytes: 0, allowed: 0, refused: 0 }),
    bus,
    intervalMs: 60_000,
  });
  return { sampler, reads, events };
}

describe('the metrics sampler with many sandboxes', () => {
  it('reads them a slice per turn of the event loop, so other work goes on during a tick', async () => {
    const { sampler, reads, events } = samplerOver(1000);
    let readWhenOtherWorkRan = -1;
    setImmediate(() => {
      readWhenOtherWorkRan = reads.length;
    });
    await sampler.tick();
    expect(reads).toHaveLength(1000);
    expect(readWhenOtherWorkRan).toBeGreaterThan(0);
    expect(readWhenOtherWorkRan).toBeLessThan(1000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ topic: 'metrics' });
    expect((events[0] as { samples: unknown[] }).samples).toHaveLength(1000);
  });

  it('keeps nothing of a sandbox that ended while a tick was reading the others', async () => {
    const { sampler, reads } = samplerOver(1000);
    setImmediate(() => sampler.forget('sb-999'));
    await sampler.tick();
    expect(reads).not.toContain('sb-999');
    expect(sampler.metrics('sb-999').history).toEqual([]);
    expect(sampler.metrics('sb-998').history).toHaveLength(1);
  });

  it('skips a tick that falls due while the previous one is still reading', async () => {
    const { sampler, reads } = samplerOver(1000);
    await Promise.all([sampler.tick(), sampler.tick()]);
    expect(reads).toHaveLength(1000);
  });

  it('keeps the last 150 readings of each, oldest first, exactly as they were published', async () => {
    let now = Date.parse('2026-12-06T10:00:00.000Z');
    let cpu = 0;
    const bus = new EventBus(pino({ enabled: false }));
    const published: Array<Record<string, unknown>> = [];
    bus.subscribe((e) => {
      if (e.topic === 'metrics') published.push(...e.samples.map((s) => s.sample));
    });
    const sampler = new MetricsSampler({
      running: () => [{ id: 'sb-1', owner: 'tenant:default', metadata: {} }],
      openCounters: () => ({
        read: () => {
          cpu += 1234;
          return { cpuUsageUsec: cpu, memoryBytes: 2 ** 40 + cpu, pids: 3 };
        },
        close: () => {},
      }),
      limits: () => ({ memoryLimitBytes: 512 * 2 ** 20, pidsLimit: 64 }),
      egress: () => ({ rxBytes: cpu * 7, txBytes: 5, allowed: 2, refused: 1 }),
      bus,
      intervalMs: 60_000,
      now: () => {
        now += 2000;
        return now;
      },
    });
    for (let i = 0; i < 200; i++) await sampler.tick();
    const { current, history } = sampler.metrics('sb-1');
    expect(history).toHaveLength(150);
    expect(history).toEqual(published.slice(-150));
    expect(current).toEqual(published.at(-1));
    expect(history[0]).toMatchObject({ at: '2026-12-06T10:01:42.000Z', memoryLimitBytes: 512 * 2 ** 20, pidsLimit: 64 });
  });
});
