import { collapseScopeActions, PolicyDeniedError, SandboxNotFoundError } from '@paddock/core';
import type { TokenStore } from '../store/tenant-store.js';
import type { Principal, TokenGrant } from './token-auth.js';

export interface TokenScopeGuardDeps {
  tokens: Pick<TokenStore, 'takeUse' | 'takeSandbox' | 'returnSandbox'>;
  /** What a sandbox is made of and labelled with (label selectors, forks); undefined when there is no such sandbox. */
  sandboxOf: (sandboxId: string) => { template: string; tier: string; metadata: Record<string, string> } | undefined;
}

/** What an admitted request gives back if its action fails: the sandbox it was counted to create. */
export interface Admission {
  failed(): void;
}

const nothingToGiveBack: Admission = { failed: () => {} };
/** Actions that make a sandbox, counted against maxSandboxes. */
const creating = new Set(['sandbox.create', 'sandbox.fork']);

/**
 * A capability token's scope, applied to every governed request before any
 * policy is asked: the action, the sandbox (one out of scope is not found,
 * as another tenant's is), what a new sandbox is made of, and the token's
 * uses and sandboxes, each counted by one atomic UPDATE.
 */
export class TokenScopeGuard {
  constructor(private readonly deps: TokenScopeGuardDeps) {}

  admit(principal: Principal, action: string, resource: string, context: Record<string, unknown>): Admission {
    const grant = principal.grant;
    if (!grant) return nothingToGiveBack;
    const { scope } = grant;
    if (scope.actions && !scope.actions.includes(action)) {
      throw new PolicyDeniedError(
        `this token's scope does not allow ${action} (it allows ${collapseScopeActions(scope.actions).join(', ')})`,
        { field: 'actions', action },
        'scope_denied',
      );
    }
    const sandbox = sandboxOf(resource);
    if (sandbox && !this.reaches(grant, sandbox)) throw new SandboxNotFoundError(sandbox);
    if (action === 'sandbox.create') checkNewSandbox(grant, context);
    // A fork is a new sandbox of its parent's template, tier and labels.
    const parent = action === 'sandbox.fork' && sandbox ? this.deps.sandboxOf(sandbox) : undefined;
    if (parent) checkNewSandbox(grant, { template: parent.template, tier: parent.tier, labels: parent.metadata });
    // Uses are counted only where they are limited: the count is a write, on every call.
    if (scope.maxUses !== undefined && !this.deps.tokens.takeUse(principal.id, scope.maxUses)) {
      throw new PolicyDeniedError(
        `token ${principal.id} has used all ${scope.maxUses} of its uses`,
        { field: 'maxUses', limit: scope.maxUses },
        'token_exhausted',
      );
    }
    if (!creating.has(action)) return nothingToGiveBack;
    if (!this.deps.tokens.takeSandbox(principal.id, scope.maxSandboxes)) {
      throw new PolicyDeniedError(
        `token ${principal.id} has created all ${scope.maxSandboxes} sandboxes it may`,
        { field: 'maxSandboxes', limit: scope.maxSandboxes },
        'token_exhausted',
      );
    }
    return { failed: () => this.deps.tokens.returnSandbox(principal.id) };
  }

  /** Whether the principal's scope reaches this sandbox (lists show only those). */
  admitsSandbox(principal: Principal, sandbox: { id: string; metadata: Record<string, string> }): boolean {
    return !principal.grant || this.reaches(principal.grant, sandbox.id, sandbox.metadata);
  }

  private reaches({ scope }: TokenGrant, id: string, labels?: Record<string, string>): boolean {
    if (scope.sandboxes && !scope.sandboxes.includes(id)) return false;
    if (!scope.labels) return true;
    const have = labels ?? this.deps.sandboxOf(id)?.metadata;
    return !!have && hasLabels(have, scope.labels);
  }
}

function checkNewSandbox({ scope }: TokenGrant, context: Record<string, unknown>): void {
  const template = String(context.template ?? '');
  if (scope.templates && !scope.templates.includes(template)) {
    throw new PolicyDeniedError(
      `this token creates sandboxes of ${scope.templates.join(', ')} only, not ${template}`,
      { field: 'templates', template },
      'scope_denied',
    );
  }
  const tier = String(context.tier ?? '');
  if (scope.tiers && !scope.tiers.includes(tier as 'container' | 'gvisor')) {
    throw new PolicyDeniedError(
      `this token creates sandboxes in the ${scope.tiers.join(', ')} tier only, not ${tier}`,
      { field: 'tiers', tier },
      'scope_denied',
    );
  }
  // A sandbox without the selector's labels would be out of the token's reach the moment it exists.
  if (scope.labels && !hasLabels((context.labels ?? {}) as Record<string, string>, scope.labels)) {
    throw new PolicyDeniedError(
      `this token creates only sandboxes labelled ${Object.entries(scope.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
      { field: 'labels', labels: scope.labels },
      'scope_denied',
    );
  }
}

function hasLabels(have: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([k, v]) => have[k] === v);
}

/** The sandbox a resource names (sandbox:sb-…), not the collection (sandbox:*). */
function sandboxOf(resource: string): string | undefined {
  return resource.startsWith('sandbox:') && resource !== 'sandbox:*' ? resource.slice('sandbox:'.length) : undefined;
}
