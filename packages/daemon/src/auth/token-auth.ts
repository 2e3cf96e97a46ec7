import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Role, StoredTokenScope, TokenInfo } from '@paddock/core';
import type { TokenStore } from '../store/tenant-store.js';

/** Who is calling: a token (or the bootstrap admin token), its tenant and role, and who it acts for. */
export interface Principal {
  id: string;
  tenant: string;
  role: Role;
  /** A person (alice@example.com) or an agent (agent:ci-bot); separation of duties is by owner. */
  owner: string;
  /** Set for a capability token (one with a scope or an expiry): what it may reach, beyond what its role allows. */
  grant?: TokenGrant;
}

/** A capability token's scope (actions as API names), expiry, and the digest audit records name it by. */
export interface TokenGrant {
  scope: StoredTokenScope;
  expiresAt: string | null;
  digest: string;
}

/** The principal of the token in the state folder, made at first start: admin of the default tenant, acting for the configured admin. */
export function bootstrapAdmin(owner: string): Principal {
  return { id: 'admin', tenant: 'default', role: 'admin', owner };
}

/** Reads the daemon's bootstrap (admin) token, creating it (mode 0600) on first start. */
export function loadOrCreateToken(file: string): string {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return token;
  }
  const token = newTokenSecret();
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

export function newTokenSecret(): string {
  return `pdk_${randomBytes(24).toString('base64url')}`;
}

/** A secret the E2B SDKs accept as an API key (they check its shape before sending it); it authenticates like any other. */
export function newE2bKeySecret(): string {
  return `e2b_${randomBytes(20).toString('hex')}`;
}

/** Tokens are looked up, and stored, by this digest; the secret itself is never kept. */
export function tokenDigest(secret: string): string {
  // crypto.hash: one call, no Hash object (every request digests its token).
  return hash('sha256', secret, 'hex');
}

export class TokenAuthenticator {
  private readonly bootstrap: Buffer;
  private readonly admin: Principal;

  constructor(
    bootstrapToken: string,
    private readonly tokens?: TokenStore,
    adminOwner = 'admin',
  ) {
    this.bootstrap = Buffer.from(tokenDigest(bootstrapToken), 'hex');
    this.admin = bootstrapAdmin(adminOwner);
  }

  /**
   * The bootstrap token is compared in constant time (both sides hashed to
   * equal length); other tokens are found by the SHA-256 of what was
   * presented, which reveals nothing about any stored secret.
   */
  authenticate(presented: string | undefined): Principal | undefined {
    if (!presented) return undefined;
    return this.byDigest(tokenDigest(presented));
  }

  /** The live token with this digest: how a session, which keeps only the digest, finds who it acts as now. */
  byDigest(digest: string): Principal | undefined {
    if (!/^[0-9a-f]{64}$/.test(digest)) return undefined;
    if (timingSafeEqual(Buffer.from(digest, 'hex'), this.bootstrap)) return this.admin;
    const token = this.tokens?.findByHash(digest);
    return token ? principalOf(token) : undefined;
  }
}

export function principalOf(token: TokenInfo): Principal {
  const principal: Principal = { id: token.id, tenant: token.tenant, role: token.role, owner: token.owner };
  if (token.scope === null && token.expiresAt === null) return principal;
  return { ...principal, grant: { scope: token.scope ?? {}, expiresAt: token.expiresAt, digest: token.scopeDigest ?? '' } };
}

/** Whether a capability token has passed its expiry. */
export function isExpired(principal: Principal, now = Date.now()): boolean {
  const expiresAt = principal.grant?.expiresAt;
  return !!expiresAt && Date.parse(expiresAt) <= now;
}
