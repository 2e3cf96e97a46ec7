import type { MetricsSample } from '@paddock/core';
import type { ResourceLimits } from '@paddock/engine';

/** The numbers of a reading, one column each; its limits are the sandbox's, read once, and `at` is kept in ms. */
const columns = ['cpuPercent', 'cpuUsageUsec', 'memoryBytes', 'pids', 'netRxBytes', 'netTxBytes', 'egressAllowed', 'egressRefused'] as const;
const width = columns.length + 1;

/**
 * A sandbox's last readings as numbers in one Float64Array used as a ring.
 * Kept as objects, 150 readings of each of 2,000 sandboxes were ~50 MB of
 * V8 heap that every full collection walked (tens of ms); a typed array's
 * numbers are neither heap objects nor walked.
 */
export class SampleRing {
  private readonly values: Float64Array;
  private next = 0;
  private size = 0;

  constructor(private readonly capacity: number) {
    this.values = new Float64Array(capacity * width);
  }

  get length(): number {
    return this.size;
  }

  /** Keeps a reading taken at `atMs`, dropping the oldest when full. */
  push(atMs: number, sample: MetricsSample): void {
    const at = this.next * width;
    this.values[at] = atMs;
    for (let c = 0; c < columns.length; c++) this.values[at + 1 + c] = sample[columns[c] as (typeof columns)[number]];
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** The readings, oldest first, with the sandbox's limits. */
  samples(limits: ResourceLimits): MetricsSample[] {
    const first = (this.next - this.size + this.capacity) % this.capacity;
    return Array.from({ length: this.size }, (_, i) => this.sampleAt((first + i) % this.capacity, limits));
  }

  private sampleAt(slot: number, limits: ResourceLimits): MetricsSample {
    const v = this.values.subarray(slot * width, slot * width + width);
    return {
      at: new Date(v[0] as number).toISOString(),
      cpuPercent: v[1] as number,
      cpuUsageUsec: v[2] as number,
      memoryBytes: v[3] as number,
      memoryLimitBytes: limits.memoryLimitBytes,
      pids: v[4] as number,
      pidsLimit: limits.pidsLimit,
      netRxBytes: v[5] as number,
      netTxBytes: v[6] as number,
      egressAllowed: v[7] as number,
      egressRefused: v[8] as number,
    };
  }
}
