import { randomBytes } from 'node:crypto';
import {
  ConflictError,
  expandScopeActions,
  NotFoundError,
  PolicyDeniedError,
  type TenantCreate,
  TenantCreateSchema,
  type TenantInfo,
  type TenantUpdate,
  TenantUpdateSchema,
  type TokenCreate,
  type TokenCreated,
  TokenCreateSchema,
  type TokenInfo,
} from '@paddock/core';
import { newE2bKeySecret, newTokenSecret, type Principal, tokenDigest } from '../auth/token-auth.js';
import type { TenantStore, TokenStore } from '../store/tenant-store.js';
import { checkNarrowIdentity, narrowGrant } from './narrow-scope.js';

const defaultTenant = 'default';

/**
 * Tenants and their tokens. Roles decide who may call what (RoleAuthorizer);
 * this service keeps each caller to what its tenant can see: another
 * tenant's tokens do not exist for it.
 */
export class TenantService {
  constructor(
    private readonly tenants: TenantStore,
    private readonly tokens: TokenStore,
  ) {}

  create(input: TenantCreate): TenantInfo {
    const { name, ...quotas } = TenantCreateSchema.parse(input);
    if (this.tenants.get(name)) throw new ConflictError(`tenant ${name} already exists`, { name }, 'tenant_exists');
    this.tenants.create(name, quotas);
    return this.get(name);
  }

  get(name: string): TenantInfo {
    const tenant = this.tenants.get(name);
    if (!tenant) throw new NotFoundError(`tenant ${name} not found`, { name }, 'tenant_not_found');
    return tenant;
  }

  list(caller: Principal): TenantInfo[] {
    return caller.role === 'admin' ? this.tenants.list() : [this.get(caller.tenant)];
  }

  update(name: string, input: TenantUpdate): TenantInfo {
    this.get(name);
    this.tenants.update(name, TenantUpdateSchema.parse(input));
    return this.get(name);
  }

  remove(name: string): void {
    if (name === defaultTenant) throw new ConflictError('the default tenant holds the bootstrap token and stays', { name }, 'tenant_in_use');
    const { sandboxes } = this.get(name).usage;
    const templates = this.tenants.templatesOf(name);
    if (templates > 0)
      throw new ConflictError(`tenant ${name} still owns ${templates} templates or snapshots; remove them first`, { name, templates }, 'tenant_in_use');
    const volumes = this.tenants.volumesOf(name);
    if (volumes > 0) throw new ConflictError(`tenant ${name} still has ${volumes} volumes; remove them first`, { name, volumes }, 'tenant_in_use');
    const servers = this.tenants.gatewayServersOf(name);
    if (servers > 0)
      throw new ConflictError(`tenant ${name} still has ${servers} gateway servers; remove them first`, { name, gatewayServers: servers }, 'tenant_in_use');
    const ending = this.tenants.endingSandboxesOf(name);
    if (ending > 0) {
      throw new ConflictError(
        `tenant ${name} still has ${ending} killed sandbox${ending === 1 ? '' : 'es'} being torn down; try again shortly`,
        { name, endingSandboxes: ending },
        'tenant_in_use',
      );
    }
    if (sandboxes > 0)
      throw new ConflictError(
        `tenant ${name} still has ${sandboxes} live sandbox${sandboxes === 1 ? '' : 'es'}; kill them first`,
        { name, sandboxes },
        'tenant_in_use',
      );
    this.tenants.delete(name);
  }

  createToken(caller: Principal, input: TokenCreate): TokenCreated {
    const request = TokenCreateSchema.parse(input);
    const tenant = request.tenant ?? caller.tenant;
    this.get(tenant);
    const id = `tok_${randomBytes(8).toString('hex')}`;
    // A scoped caller, or an agent, mints copies of itself: same owner, no wider, revoked with it.
    const copy = caller.grant !== undefined || caller.role === 'agent';
    const owner = copy ? (request.owner ?? caller.owner) : tokenOwner(caller, request, id);
    if (copy) checkNarrowIdentity(caller, { tenant, role: request.role, owner });
    const spent = this.tokens.get(caller.id);
    const grant = narrowGrant({ grant: caller.grant, uses: spent?.uses ?? 0, sandboxesCreated: spent?.sandboxesCreated ?? 0 }, request);
    const secret = request.e2b ? newE2bKeySecret() : newTokenSecret();
    const info = this.tokens.insert({
      id,
      tenant,
      role: request.role,
      name: request.name ?? null,
      owner,
      hash: tokenDigest(secret),
      createdBy: caller.id,
      scope: grant.scope,
      scopeDigest: grant.digest,
      expiresAt: grant.expiresAt,
      parent: copy ? caller.id : null,
    });
    return { ...info, token: secret };
  }

  /**
   * A narrower copy of the caller's token for one sandbox (an E2B sandbox's
   * envd access token): same tenant, role and owner, reaching that sandbox
   * alone and only the actions asked that the caller's own scope allows;
   * revoked with the caller's token, and when the sandbox ends.
   */
  mintSandboxToken(caller: Principal, sandboxId: string, actions: readonly string[]): TokenCreated {
    const own = caller.grant?.scope.actions;
    const expanded = expandScopeActions(actions);
    const allowed = own ? expanded.filter((a) => own.includes(a)) : expanded;
    const spent = this.tokens.get(caller.id);
    const grant = narrowGrant(
      { grant: caller.grant, uses: spent?.uses ?? 0, sandboxesCreated: spent?.sandboxesCreated ?? 0 },
      { scope: { sandboxes: [sandboxId], actions: allowed.length ? allowed : own } },
    );
    const secret = newTokenSecret();
    const info = this.tokens.insert({
      id: `tok_${randomBytes(8).toString('hex')}`,
      tenant: caller.tenant,
      role: caller.role,
      name: sandboxTokenName(sandboxId),
      owner: caller.owner,
      hash: tokenDigest(secret),
      createdBy: caller.id,
      scope: grant.scope,
      scopeDigest: grant.digest,
      expiresAt: grant.expiresAt,
      parent: caller.id,
    });
    return { ...info, token: secret };
  }

  /** Whether a token still works: not revoked, not expired. */
  isLive(id: string, now = Date.now()): boolean {
    const token = this.tokens.get(id);
    return !!token && token.revokedAt === null && (token.expiresAt === null || Date.parse(token.expiresAt) > now);
  }

  /** The sandbox ended: the tokens made for it stop working. */
  revokeSandboxTokens(sandboxId: string): void {
    this.tokens.revokeNamed(sandboxTokenName(sandboxId));
  }

  listTokens(caller: Principal, tenant?: string): TokenInfo[] {
    if (caller.role === 'admin') return this.tokens.list(tenant);
    return this.tokens.list(caller.tenant);
  }

  revokeToken(caller: Principal, id: string): TokenInfo {
    const token = this.tokens.get(id);
    if (!token || (caller.role !== 'admin' && token.tenant !== caller.tenant)) {
      throw new NotFoundError(`token ${id} not found`, { id }, 'token_not_found');
    }
    if (token.role === 'admin' && caller.role !== 'admin') throw new PolicyDeniedError('only an admin revokes an admin token', { id });
    this.tokens.revoke(id);
    return this.tokens.get(id) as TokenInfo;
  }
}

/**
 * Who a new token acts for when the request names nobody: an agent token is
 * an agent of its own, whose requests its person may approve; any other
 * token acts for its creator's owner (a token you make for yourself is
 * still you). Who may name someone else is the RoleAuthorizer's rule.
 */
/** The name of the tokens made for one sandbox alone. */
export function sandboxTokenName(sandboxId: string): string {
  return `sandbox access ${sandboxId}`;
}

function tokenOwner(caller: Principal, request: { role: string; owner?: string | undefined }, id: string): string {
  return request.owner ?? (request.role === 'agent' ? `agent:${id}` : caller.owner);
}
