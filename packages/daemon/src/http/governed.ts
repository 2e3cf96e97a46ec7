import { ApprovalRequiredError, PaddockError, PolicyDeniedError } from '@paddock/core';
import type { Context } from 'hono';
import type { AuditLog } from '../audit/audit-log.js';
import type { Authorizer } from '../policy/authorizer.js';
import type { HttpEnv } from './http-env.js';

export interface Action {
  /** e.g. sandbox.create */
  action: string;
  /** e.g. sandbox:sb-…; what the action is about */
  resource: string;
  /** Facts the policy may look at (template, command, path …); also audited. */
  context?: Record<string, unknown>;
}

/**
 * Runs one API action through the policy decision point and records it in the
 * audit log, whatever its outcome. Every route goes through here, so nothing
 * reaches a sandbox without a decision and a record.
 */
export type Govern = <T>(c: Context<HttpEnv>, action: Action, run: () => Promise<T>) => Promise<T>;

export function makeGovern(authorizer: Authorizer, audit: AuditLog): Govern {
  return async (c, { action, resource, context = {} }, run) => {
    const principal = c.get('principal');
    const started = performance.now();
    const base = { requestId: c.get('requestId') ?? null, principal: principal.id, tenant: principal.tenant, action, resource, details: context };
    const decision = await authorizer.authorize({ principal, action, resource, context });
    if (decision.effect !== 'allow') {
      audit.append({
        ...base,
        decision: decision.effect,
        outcome: decision.effect === 'deny' ? 'policy_denied' : 'approval_required',
        details: { ...context, reason: decision.reason },
        durationMs: performance.now() - started,
      });
      throw decision.effect === 'deny' ? new PolicyDeniedError(decision.reason, { action }) : new ApprovalRequiredError(decision.reason, { action });
    }
    try {
      const result = await run();
      audit.append({ ...base, decision: 'allow', outcome: 'ok', durationMs: performance.now() - started });
      return result;
    } catch (err) {
      audit.append({ ...base, decision: 'allow', outcome: err instanceof PaddockError ? err.code : 'internal_error', durationMs: performance.now() - started });
      throw err;
    }
  };
}
