import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Who is calling. One token, one principal, for now; tenants come with governance. */
export interface Principal {
  id: string;
}

/** Reads the daemon's bearer token, creating it (mode 0600) on first start. */
export function loadOrCreateToken(file: string): string {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return token;
  }
  const token = `pdk_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

export class TokenAuthenticator {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** Constant-time check: both sides are hashed to equal length before comparing. */
  authenticate(presented: string | undefined): Principal | undefined {
    if (!presented) return undefined;
    return timingSafeEqual(digest(presented), this.expected) ? { id: 'default' } : undefined;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
