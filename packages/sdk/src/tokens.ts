import type { Role, TokenCreate, TokenCreated, TokenInfo } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

type CallOptions = ConnectionOptions & RequestOptions;

export interface TokenListOptions extends CallOptions {
  /** Only this tenant's tokens; admins see every tenant's otherwise. */
  tenant?: string;
}

/** Who the daemon takes the caller to be. */
export interface Principal {
  /** Token id, or "admin" for the bootstrap token. */
  principal: string;
  tenant: string;
  role: Role;
  /** Who the token acts for: a person (alice@example.com) or an agent (agent:ci-bot). */
  owner: string;
  ownerKind: 'human' | 'agent';
  /** A capability token's scope (actions as API names); absent for a token with none. */
  scope?: TokenInfo['scope'];
  /** A capability token's expiry. */
  expiresAt?: string | null;
}

/**
 * API tokens, each bound to one tenant and one role, and optionally to a
 * scope and a lifetime (capability tokens).
 *
 *   const { token } = await Tokens.create({ tenant: 'team-a', role: 'agent', name: 'ci' })
 *   const sbx = await Sandbox.create({ token })
 *   const task = await Tokens.create({ role: 'agent', scope: { sandboxes: [sbx.id], actions: ['exec', 'files.read'], maxUses: 200 }, ttlMs: 15 * 60_000 })
 */
export const Tokens = {
  /** The result holds the secret (`token`); the daemon keeps only its hash, so it cannot be shown again. */
  async create(input: TokenCreate, options: CallOptions = {}): Promise<TokenCreated> {
    return new ApiClient(options).json<TokenCreated>(apiCall('POST /v1/tokens'), { json: input, timeoutMs: options.timeoutMs, signal: options.signal });
  },

  async list(options: TokenListOptions = {}): Promise<TokenInfo[]> {
    const spec = { query: { tenant: options.tenant }, timeoutMs: options.timeoutMs, signal: options.signal };
    return (await new ApiClient(options).json<{ tokens: TokenInfo[] }>(apiCall('GET /v1/tokens'), spec)).tokens;
  },

  /** Revoked tokens are refused from then on; the record stays, with revokedAt set. */
  async revoke(id: string, options: CallOptions = {}): Promise<TokenInfo> {
    return new ApiClient(options).json<TokenInfo>(apiCall('DELETE /v1/tokens/{id}', { id }), options);
  },
};

/** The principal, tenant, role and owner of the token in use. */
export async function whoami(options: CallOptions = {}): Promise<Principal> {
  return new ApiClient(options).json<Principal>(apiCall('GET /v1/whoami'), options);
}
