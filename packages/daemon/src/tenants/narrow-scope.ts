import { createHash } from 'node:crypto';
import { canonicalJson, expandScopeActions, PolicyDeniedError, type Role, type StoredTokenScope, type TokenScope, ValidationError } from '@paddock/core';
import type { TokenGrant } from '../auth/token-auth.js';
import { cedarActions } from '../policy/cedar-schema.js';

/** What a caller's own token has spent, for the limits a copy of it may carry. */
export interface Minter {
  grant?: TokenGrant;
  uses: number;
  sandboxesCreated: number;
}

export interface Grant {
  scope: StoredTokenScope | null;
  expiresAt: string | null;
  digest: string | null;
}

const known = new Set(cedarActions);

/**
 * The scope and expiry of a new token. A caller with a scope of its own gets
 * at most that: each field asked for must lie within the caller's (a subset;
 * limits no more than it has left; expiry no later), and each field left out
 * is the caller's. Anything wider is refused, naming the field.
 */
export function narrowGrant(minter: Minter, request: { scope?: TokenScope | undefined; ttlMs?: number | undefined }, now = Date.now()): Grant {
  const asked: StoredTokenScope | undefined = request.scope && {
    ...request.scope,
    ...(request.scope.actions ? { actions: knownActions(request.scope.actions) } : {}),
  };
  const askedExpiry = request.ttlMs === undefined ? undefined : new Date(now + request.ttlMs).toISOString();
  const parent = minter.grant;
  if (!parent) return grantOf(asked ?? null, askedExpiry ?? null);
  const own = parent.scope;
  const scope: StoredTokenScope = {};
  const sandboxes = subset('sandboxes', asked?.sandboxes, own.sandboxes);
  if (sandboxes) scope.sandboxes = sandboxes;
  const labels = narrowerLabels(asked?.labels, own.labels);
  if (labels) scope.labels = labels;
  const actions = subset('actions', asked?.actions, own.actions);
  if (actions) scope.actions = actions;
  const templates = subset('templates', asked?.templates, own.templates);
  if (templates) scope.templates = templates;
  const tiers = subset('tiers', asked?.tiers, own.tiers);
  if (tiers) scope.tiers = tiers;
  const maxUses = atMost('maxUses', asked?.maxUses, own.maxUses === undefined ? undefined : own.maxUses - minter.uses);
  if (maxUses !== undefined) scope.maxUses = maxUses;
  const maxSandboxes = atMost('maxSandboxes', asked?.maxSandboxes, own.maxSandboxes === undefined ? undefined : own.maxSandboxes - minter.sandboxesCreated);
  if (maxSandboxes !== undefined) scope.maxSandboxes = maxSandboxes;
  return grantOf(scope, notLater(askedExpiry, parent.expiresAt));
}

/** A scoped caller mints tokens of its own tenant and owner, and of no higher role. */
export function checkNarrowIdentity(caller: { tenant: string; role: Role; owner: string }, child: { tenant: string; role: Role; owner: string }): void {
  const rank: Record<Role, number> = { agent: 0, operator: 1, admin: 2 };
  if (rank[child.role] > rank[caller.role]) wider('role', `a ${caller.role} token cannot mint a ${child.role} token`);
  if (child.tenant !== caller.tenant) wider('tenant', `a scoped token mints tokens of its own tenant (${caller.tenant}) only`);
  if (child.owner !== caller.owner) wider('owner', `a narrower token acts for the same owner as its maker (${caller.owner})`);
}

function grantOf(scope: StoredTokenScope | null, expiresAt: string | null): Grant {
  if (scope === null && expiresAt === null) return { scope: null, expiresAt: null, digest: null };
  const digest = createHash('sha256')
    .update(canonicalJson({ scope: scope ?? {}, expiresAt }))
    .digest('hex');
  return { scope, expiresAt, digest };
}

function knownActions(actions: readonly string[]): string[] {
  const expanded = expandScopeActions(actions);
  const unknown = expanded.filter((a) => !known.has(a));
  if (unknown.length) {
    throw new ValidationError(
      `unknown action ${unknown.join(', ')}: use exec, files.read, files.write or an action name such as sandbox.create`,
      unknown.map((a) => ({ path: 'scope.actions', message: `unknown action ${a}` })),
    );
  }
  return expanded;
}

function subset<T extends string>(field: string, asked: T[] | undefined, own: T[] | undefined): T[] | undefined {
  if (!own) return asked;
  if (!asked) return own;
  const outside = asked.filter((v) => !own.includes(v));
  if (outside.length) wider(field, `${field} ${outside.join(', ')} lie outside this token's scope (${own.join(', ')})`);
  return asked;
}

function narrowerLabels(asked: Record<string, string> | undefined, own: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!own) return asked;
  if (!asked) return own;
  const missing = Object.entries(own).filter(([k, v]) => asked[k] !== v);
  if (missing.length) wider('labels', `the label selector must keep ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  return asked;
}

function atMost(field: string, asked: number | undefined, left: number | undefined): number | undefined {
  if (left === undefined) return asked;
  if (asked === undefined) return Math.max(left, 0);
  if (asked > left) wider(field, `${field} ${asked} is more than this token has left (${Math.max(left, 0)})`);
  return asked;
}

function notLater(asked: string | undefined, own: string | null): string | null {
  if (!own) return asked ?? null;
  if (!asked) return own;
  if (asked > own) wider('expiresAt', `the new token would outlive this one (it expires at ${own})`);
  return asked;
}

function wider(field: string, message: string): never {
  throw new PolicyDeniedError(`a scoped token mints only narrower tokens: ${message}`, { field }, 'scope_wider');
}
