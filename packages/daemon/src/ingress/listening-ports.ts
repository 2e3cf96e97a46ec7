/** One listening TCP socket inside a sandbox, from its /proc/net/tcp or tcp6. */
export interface ListeningSocket {
  port: number;
  address: string;
}

const listenState = '0A';

/**
 * The listening sockets of a /proc/net/tcp or /proc/net/tcp6 table. The text
 * comes from the sandbox (its root may mount anything on /proc): lines that
 * do not parse are skipped, and at most `limit` sockets are taken.
 */
export function parseListeningSockets(table: string, limit = 1024): ListeningSocket[] {
  const found: ListeningSocket[] = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (fields[3] !== listenState || !local) continue;
    const m = /^([0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4})$/.exec(local);
    if (!m) continue;
    const port = Number.parseInt(m[2] as string, 16);
    if (port < 1) continue;
    found.push({ port, address: addressOf(m[1] as string) });
    if (found.length >= limit) break;
  }
  return found;
}

/** The kernel prints each 32-bit word of the address in host (little-endian) order. */
function addressOf(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [w.slice(6, 8), w.slice(4, 6), w.slice(2, 4), w.slice(0, 2)].map((b) => Number.parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  // IPv4-mapped (::ffff:a.b.c.d) is shown as its IPv4, as servers name it.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
