import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Session, type SessionCreate, UnauthorizedError } from '@paddock/core';
import type { AuditLog } from '../audit/audit-log.js';
import { isExpired, type Principal, type TokenAuthenticator, tokenDigest } from '../auth/token-auth.js';
import type { Clock } from '../clock/clock.js';
import type { SessionRow, SessionStore } from './session-store.js';

/** A login link's code works this long, once. */
export const loginCodeTtlMs = 2 * 60_000;

/** A cookie value as this daemon makes them: 32 random bytes, base64url. Anything else is not looked up at all. */
const secretPattern = /^[A-Za-z0-9_-]{43}$/;

/** A session found by its cookie, with who it acts as now. */
export interface ActiveSession {
  row: SessionRow;
  principal: Principal;
  /** Whether it still holds (not signed out, not past its TTL): a stream it opened ends with it. */
  stillLive(): boolean;
}

export interface SessionServiceOptions {
  store: SessionStore;
  auth: TokenAuthenticator;
  audit: AuditLog;
  clock: Clock;
  ttlMs: number;
}

/**
 * Dashboard sign-ins. A session keeps the digest of the token it was made
 * from, never the token, and finds that token again on every request: a
 * revoked or expired token ends its sessions at once, and a session has
 * exactly the token's rights, scope included. Cookie values are always made
 * here, so a value a client chose (session fixation) matches nothing.
 */
export class SessionService {
  constructor(private readonly o: SessionServiceOptions) {}

  /** Signs in with a token or a login code; throws UnauthorizedError for a bad, expired or revoked one, or a used code. */
  signIn(body: SessionCreate, requestId: string | null): { secret: string; session: Session } {
    const now = this.o.clock.now();
    this.o.store.sweep(new Date(now).toISOString());
    const via = 'token' in body ? 'token' : 'code';
    const digest = 'token' in body ? tokenDigest(body.token) : this.o.store.useCode(sha256(body.code), new Date(now).toISOString());
    const principal = digest ? this.o.auth.byDigest(digest) : undefined;
    if (!digest || !principal) throw new UnauthorizedError(via === 'token' ? 'missing or invalid token' : 'the login code is unknown, used or expired');
    if (isExpired(principal)) {
      throw new UnauthorizedError(`token ${principal.id} expired at ${principal.grant?.expiresAt}`, { expiresAt: principal.grant?.expiresAt }, 'token_expired');
    }
    const secret = randomBytes(32).toString('base64url');
    const row: SessionRow = {
      digest: sha256(secret),
      tokenDigest: digest,
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: new Date(now + this.o.ttlMs).toISOString(),
    };
    this.o.store.insert(row, new Date(now).toISOString());
    this.o.audit.append({
      requestId,
      principal: principal.id,
      tenant: principal.tenant,
      action: 'session.create',
      resource: 'session',
      decision: 'allow',
      outcome: 'ok',
      details: { via, expiresAt: row.expiresAt },
    });
    return { secret, session: this.view({ row, principal, stillLive: () => this.isLive(row.digest) }) };
  }

  /**
   * The live session a cookie value names, if any. Its token is looked up
   * again: revoked, it is gone; expired, the caller answers token_expired.
   */
  resolve(secret: string): ActiveSession | undefined {
    if (!secretPattern.test(secret)) return undefined;
    const row = this.o.store.get(sha256(secret));
    if (!row) return undefined;
    if (Date.parse(row.expiresAt) <= this.o.clock.now()) {
      this.o.store.delete(row.digest);
      return undefined;
    }
    const principal = this.o.auth.byDigest(row.tokenDigest);
    if (!principal) {
      this.o.store.delete(row.digest);
      return undefined;
    }
    return { row, principal, stillLive: () => this.isLive(row.digest) };
  }

  private isLive(digest: string): boolean {
    const row = this.o.store.get(digest);
    return row !== undefined && Date.parse(row.expiresAt) > this.o.clock.now();
  }

  /** Whether a request's X-CSRF-Token is the session's (compared in constant time). */
  csrfMatches(active: ActiveSession, presented: string | undefined): boolean {
    if (!presented) return false;
    const a = Buffer.from(sha256(presented), 'hex');
    return timingSafeEqual(a, Buffer.from(sha256(active.row.csrfToken), 'hex'));
  }

  end(active: ActiveSession, requestId: string | null): void {
    this.o.store.delete(active.row.digest);
    const { principal } = active;
    this.o.audit.append({
      requestId,
      principal: principal.id,
      tenant: principal.tenant,
      action: 'session.end',
      resource: 'session',
      decision: 'allow',
      outcome: 'ok',
      details: {},
    });
  }

  /** A one-time code that signs in as the token with this digest, for two minutes. */
  createCode(forTokenDigest: string): { code: string; expiresAt: string } {
    const now = this.o.clock.now();
    const code = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now + loginCodeTtlMs).toISOString();
    this.o.store.insertCode(sha256(code), forTokenDigest, new Date(now).toISOString(), expiresAt);
    return { code, expiresAt };
  }

  /** The session as the API shows it; it ends no later than its token. */
  view({ row, principal }: ActiveSession): Session {
    const tokenEnd = principal.grant?.expiresAt;
    const expiresAt = tokenEnd && Date.parse(tokenEnd) < Date.parse(row.expiresAt) ? new Date(Date.parse(tokenEnd)).toISOString() : row.expiresAt;
    return {
      principal: { id: principal.id, role: principal.role, tenantId: principal.tenant, owner: principal.owner },
      csrfToken: row.csrfToken,
      expiresAt,
    };
  }

  /** Seconds the cookie should live: until the session ends. */
  maxAgeSeconds(session: Session): number {
    return Math.max(0, Math.floor((Date.parse(session.expiresAt) - this.o.clock.now()) / 1000));
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
