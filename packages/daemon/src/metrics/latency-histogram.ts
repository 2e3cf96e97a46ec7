/** Bucket i holds durations up to `smallestMs * growth^i`; the last one everything above. */
const smallestMs = 0.5;
const growth = 1.25;
const buckets = 64;
const logGrowth = Math.log(growth);

/**
 * Exec latencies of one interval, as counts in fixed logarithmic buckets:
 * recording is an increment (no allocation per call), a percentile is the
 * upper bound of its bucket (within 25 % of the true value).
 */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(buckets);
  private total = 0;

  record(ms: number): void {
    const i = ms <= smallestMs ? 0 : Math.min(buckets - 1, Math.ceil(Math.log(ms / smallestMs) / logGrowth));
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.total += 1;
  }

  /** p50 and p95 in ms (rounded to 0.1), or null when nothing was recorded. */
  percentiles(): { p50: number; p95: number } | null {
    if (this.total === 0) return null;
    return { p50: this.percentile(0.5), p95: this.percentile(0.95) };
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  private percentile(q: number): number {
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < buckets; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.round(smallestMs * growth ** i * 10) / 10;
    }
    return Math.round(smallestMs * growth ** (buckets - 1) * 10) / 10;
  }
}
