/** Summary of one series of timings (ms) or sizes. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** Linear-interpolated percentile (the "type 7" definition spreadsheets use). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Named series of samples, filled as a benchmark runs. */
export class Samples {
  private readonly series = new Map<string, number[]>();

  add(name: string, value: number): void {
    let list = this.series.get(name);
    if (!list) {
      list = [];
      this.series.set(name, list);
    }
    list.push(value);
  }

  has(name: string): boolean {
    return (this.series.get(name)?.length ?? 0) > 0;
  }

  summary(name: string): Summary {
    return summarize(this.series.get(name) ?? []);
  }

  /** Every recorded value, rounded to µs, in the order measured. */
  raw(): Record<string, number[]> {
    return Object.fromEntries([...this.series].map(([k, v]) => [k, v.map((x) => Math.round(x * 1000) / 1000)]));
  }

  summaries(): Record<string, Summary> {
    return Object.fromEntries([...this.series.keys()].map((k) => [k, this.summary(k)]));
  }
}

export function ratio(a: number, b: number): number {
  return b > 0 ? a / b : Number.NaN;
}

/** Fixed-precision number for tables: 3 significant-ish digits, never exponent notation. */
export function fmt(v: number | null | undefined, digits?: number): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const d = digits ?? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  const out = v.toFixed(d);
  // A value that rounds to zero prints as 0, not -0.00.
  return /^-0(\.0*)?$/.test(out) ? out.slice(1) : out;
}

export function fmtRatio(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(2)}×` : '–';
}

/** Rotates the order of variants each round so none always runs first (cache, scheduler). */
export function rotated<T>(items: T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
