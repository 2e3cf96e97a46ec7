/** Left-aligned columns separated by three spaces, Docker style. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "3 minutes ago", "in 4m": short relative times for listings. */
export function relativeTime(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const deltaSec = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(deltaSec);
  if (abs < 1) return 'just now';
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.floor(abs / 60)}m` : abs < 86_400 ? `${Math.floor(abs / 3600)}h` : `${Math.floor(abs / 86_400)}d`;
  return deltaSec >= 0 ? `in ${text}` : `${text} ago`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
