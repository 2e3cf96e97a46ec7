import { BadRequestError } from '../errors/paddock-error.js';

const sizeUnits: Record<string, number> = {
  '': 1 / (1024 * 1024),
  b: 1 / (1024 * 1024),
  k: 1 / 1024,
  kb: 1 / 1024,
  kib: 1 / 1024,
  m: 1,
  mb: 1,
  mib: 1,
  g: 1024,
  gb: 1024,
  gib: 1024,
  t: 1024 * 1024,
  tb: 1024 * 1024,
  tib: 1024 * 1024,
};

/** Parses Docker-style sizes ("256m", "1.5g", "512MiB") into whole MiB. */
export function parseSizeMiB(text: string, field = 'size'): number {
  return Math.ceil(sizeInMiB(text, field));
}

/** Parses Docker-style sizes into bytes; a bare number is bytes. */
export function parseSizeBytes(text: string, field = 'size'): number {
  return Math.ceil(sizeInMiB(text, field) * 1024 * 1024);
}

function sizeInMiB(text: string, field: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const factor = match ? sizeUnits[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new BadRequestError(`${field}: invalid size "${text}" (use a number with b, k, m, g or t)`, { field, value: text });
  }
  const mib = Number(match[1]) * factor;
  if (!Number.isFinite(mib) || mib <= 0) {
    throw new BadRequestError(`${field}: size "${text}" must be positive`, { field, value: text });
  }
  return mib;
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses durations such as "30s", "10m", "1h30m", "7d" or a bare number of seconds. */
export function parseDurationMs(text: string, field = 'duration'): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const consumed = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || consumed !== trimmed) {
    throw new BadRequestError(`${field}: invalid duration "${text}" (use e.g. 30s, 10m, 1h)`, { field, value: text });
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * (durationUnits[p[2] as string] ?? 0), 0));
}

/** Formats byte counts for people: 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
