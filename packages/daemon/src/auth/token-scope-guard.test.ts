import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredTokenScope } from '@paddock/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cedarActions } from '../policy/cedar-schema.js';
import { type Db, openDatabase } from '../store/database.js';
import { TokenStore } from '../store/tenant-store.js';
import { type Principal, principalOf } from './token-auth.js';
import { TokenScopeGuard } from './token-scope-guard.js';

// The scope guard over every action the API authorizes, against every scope
// field: what the HTTP tests show for a sample of routes, here for all of them.
let dir: string;
let db: Db;
let tokens: TokenStore;
let guard: TokenScopeGuard;
const sandboxes: Record<string, { template: string; tier: string; metadata: Record<string, string> }> = {
  'sb-inscope00001': { template: 'base', tier: 'gvisor', metadata: { task: 't1' } },
  'sb-outscope0001': { template: 'python', tier: 'container', metadata: { task: 't2' } },
};
let next = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'paddock-scope-guard-'));
  db = openDatabase(join(dir, 'paddock.db'));
  tokens = new TokenStore(db);
  guard = new TokenScopeGuard({ tokens, sandboxOf: (id) => sandboxes[id] });
});

afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

function tokenWith(scope: StoredTokenScope): Principal {
  const id = `tok_guard${next++}`;
  tokens.insert({
    id,
    tenant: 'default',
    role: 'agent',
    name: null,
    owner: `agent:${id}`,
    hash: id,
    createdBy: 'admin',
    scope,
    scopeDigest: 'd',
    expiresAt: null,
    parent: null,
  });
  return principalOf(tokens.get(id) as NonNullable<ReturnType<TokenStore['get']>>);
}

/** What a request of this action is about: a sandbox for sandbox actions, a collection otherwise. */
function resourceOf(action: string, sandbox = 'sb-inscope00001'): string {
  return action.startsWith('sandbox.') && action !== 'sandbox.create' && action !== 'sandbox.list' ? `sandbox:${sandbox}` : 'template:base';
}

const newSandbox = { template: 'base', tier: 'gvisor', labels: { task: 't1' } };

describe('TokenScopeGuard', () => {
  it.each(cedarActions)('allows %s inside the scope’s actions and refuses it outside (scope_denied)', (action) => {
    const context = action === 'sandbox.create' ? newSandbox : {};
    expect(() => guard.admit(tokenWith({ actions: [action] }), action, resourceOf(action), context)).not.toThrow();
    const other = action === 'sandbox.get' ? 'sandbox.list' : 'sandbox.get';
    expect(() => guard.admit(tokenWith({ actions: [other] }), action, resourceOf(action), context)).toThrow(
      expect.objectContaining({ code: 'scope_denied', status: 403, details: { field: 'actions', action } }),
    );
  });

  it.each(cedarActions.filter((a) => resourceOf(a).startsWith('sandbox:')))('finds no sandbox outside the scope for %s (ids, then labels)', (action) => {
    for (const scope of [{ sandboxes: ['sb-inscope00001'] }, { labels: { task: 't1' } }]) {
      const principal = tokenWith(scope);
      expect(() => guard.admit(principal, action, resourceOf(action), {})).not.toThrow();
      expect(() => guard.admit(principal, action, resourceOf(action, 'sb-outscope0001'), {})).toThrow(
        expect.objectContaining({ code: 'sandbox_not_found', status: 404, message: 'sandbox sb-outscope0001 not found' }),
      );
    }
  });

  it.each([
    ['templates', { templates: ['base'] }, { ...newSandbox, template: 'python' }],
    ['tiers', { tiers: ['gvisor'] as const }, { ...newSandbox, tier: 'container' }],
    ['labels', { labels: { task: 't1' } }, { ...newSandbox, labels: { task: 't2' } }],
  ])('holds sandbox.create and sandbox.fork to the scope’s %s', (field, scope, outside) => {
    const principal = tokenWith(scope as StoredTokenScope);
    expect(() => guard.admit(principal, 'sandbox.create', 'template:base', newSandbox)).not.toThrow();
    expect(() => guard.admit(principal, 'sandbox.create', 'template:base', outside)).toThrow(
      expect.objectContaining({ code: 'scope_denied', details: expect.objectContaining({ field }) }),
    );
    // A fork of the out-of-scope sandbox would be such a sandbox (its labels also keep it out of reach).
    if (field !== 'labels') {
      expect(() => guard.admit(principal, 'sandbox.fork', 'sandbox:sb-outscope0001', {})).toThrow(
        expect.objectContaining({ code: 'scope_denied', details: expect.objectContaining({ field }) }),
      );
    }
  });

  it('counts uses and sandboxes to their limits, and gives back a sandbox whose create failed', () => {
    const principal = tokenWith({ maxUses: 3, maxSandboxes: 1 });
    const made = guard.admit(principal, 'sandbox.create', 'template:base', newSandbox);
    expect(() => guard.admit(principal, 'sandbox.create', 'template:base', newSandbox)).toThrow(
      expect.objectContaining({ code: 'token_exhausted', details: { field: 'maxSandboxes', limit: 1 } }),
    );
    made.failed();
    guard.admit(principal, 'sandbox.create', 'template:base', newSandbox);
    expect(() => guard.admit(principal, 'sandbox.get', 'sandbox:sb-inscope00001', {})).toThrow(
      expect.objectContaining({ code: 'token_exhausted', details: { field: 'maxUses', limit: 3 } }),
    );
    expect(tokens.get(principal.id)).toMatchObject({ uses: 3, sandboxesCreated: 1 });
  });

  it('lets a token without a scope through untouched, and counts nothing for it', () => {
    const plain: Principal = { id: 'tok_plain', tenant: 'default', role: 'agent', owner: 'agent:tok_plain' };
    expect(() => guard.admit(plain, 'sandbox.exec', 'sandbox:sb-outscope0001', {})).not.toThrow();
    expect(guard.admitsSandbox(plain, { id: 'sb-outscope0001', metadata: {} })).toBe(true);
  });
});
