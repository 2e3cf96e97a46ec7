const units: Array<[name: string, seconds: number]> = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

/** "2 minutes ago", for when things happened. */
export function timeAgo(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const seconds = Math.floor((now - Date.parse(iso)) / 1000);
  if (seconds < 1) return 'just now';
  const [name, size] = units.find(([, s]) => seconds >= s) ?? ['second', 1];
  const count = Math.floor(seconds / size);
  return `${count} ${name}${count === 1 ? '' : 's'} ago`;
}

/** "in 4m", for deadlines; terse because they are read at a glance. */
export function timeUntil(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (seconds < 1) return 'now';
  const [name, size] = units.find(([, s]) => seconds >= s) ?? ['second', 1];
  // Rounded: a fresh 5-minute sandbox expires "in 5m", not "in 4m".
  return `in ${Math.round(seconds / size)}${name[0]}`;
}
