// Apart from units.ts, which needs the error classes: the errors format with these.

const durationSteps: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/**
 * Formats ms the way durations are written on the command line: 30000 → "30s",
 * 5400000 → "1h30m", 250 → "250ms"; days only past one (24h, not 1d).
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let left = Math.round(ms / 1000) * 1000;
  let out = '';
  for (const [unit, size] of durationSteps) {
    if (unit === 'd' && left <= size) continue;
    const n = Math.floor(left / size);
    if (n > 0) out += `${n}${unit}`;
    left -= n * size;
  }
  return out;
}

/** Formats MiB as a size flag takes it: 16 → "16m", 262144 → "256g", 1048576 → "1t". */
export function formatSizeMiB(mib: number): string {
  if (mib >= 1024 * 1024 && mib % (1024 * 1024) === 0) return `${mib / (1024 * 1024)}t`;
  if (mib >= 1024 && mib % 1024 === 0) return `${mib / 1024}g`;
  return `${mib}m`;
}
