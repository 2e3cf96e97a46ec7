import type { Span } from '@opentelemetry/api';
import { approvalHeaders, PaddockError, PolicyDeniedError } from '@paddock/core';
import type { Context } from 'hono';
import type { ApprovalService } from '../approvals/approval-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../auth/token-auth.js';
import type { Admission, TokenScopeGuard } from '../auth/token-scope-guard.js';
import type { Authorizer } from '../policy/authorizer.js';
import { assessCommand } from '../policy/command-risk.js';
import { endSpan, offTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import type { HttpEnv } from './http-env.js';

export interface Action<Checked = unknown> {
  /** e.g. sandbox.create */
  action: string;
  /** e.g. sandbox:sb-…; what the action is about */
  resource: string;
  /** Facts the policy may look at (template, command, path …); also audited. */
  context?: Record<string, unknown>;
  /**
   * Checks that must pass before a policy is asked (the sandbox exists and is
   * the caller's), so nobody is asked to approve a request that cannot run.
   */
  precheck?: () => Checked;
  /** The audited outcome of a run that succeeded, when its result says more than "ok" (a tool that answered with an error). */
  outcomeOf?: (result: unknown) => string;
  /** What a run that succeeded adds to its audit record (a recording's digest, say). */
  detailsOf?: (result: unknown) => Record<string, unknown>;
}

/**
 * Who asks for an action, however the request came: an API route (from its
 * Hono context) or a tool call of the daemon's own MCP sessions, which call
 * the services without a second trip through the HTTP stack.
 */
export interface Caller {
  principal: Principal;
  requestId: string | null;
  /** The span the decision's span belongs under (the HTTP request's). */
  span?: Span;
  /** The approval the caller names for this very request, if any. */
  readonly approvalId: string | undefined;
  /** How long the caller lets its request wait for a human (0: not at all). */
  readonly approvalWaitMs: number;
  /** Aborts when the caller goes away: a wait for a human ends with it. */
  readonly signal: AbortSignal;
}

/**
 * Runs one API action through the token's scope, then the policy decision
 * point, and records it in the audit log, whatever its outcome. Every route
 * and every tool call of /mcp goes through here, so nothing reaches a sandbox
 * without a decision and a record.
 */
export type GovernAs = <T, Checked = unknown>(caller: Caller, action: Action<Checked>, run: Run<T, Checked>) => Promise<T>;

/** GovernAs for a route: the caller is the request of its context. */
export type Govern = <T, Checked = unknown>(c: Context<HttpEnv>, action: Action<Checked>, run: Run<T, Checked>) => Promise<T>;

/**
 * The action itself. It gets what the precheck returned (the sandbox it
 * found, say) when the decision came at once; after a wait for a human it
 * gets undefined and must look again, as the world may have changed meanwhile.
 */
export type Run<T, Checked> = (checked: Checked | undefined) => Promise<T>;

/** The caller of a route. Its approval headers are read only when a decision needs them. */
export function callerOf(c: Context<HttpEnv>): Caller {
  return {
    principal: c.get('principal'),
    requestId: c.get('requestId') ?? null,
    span: c.get('span'),
    get approvalId() {
      return c.req.header(approvalHeaders.id);
    },
    get approvalWaitMs() {
      return approvalWaitMs(c.req.header(approvalHeaders.wait));
    },
    get signal() {
      return c.get('signal');
    },
  };
}

export function makeGovern(governAs: GovernAs): Govern {
  return (c, action, run) => governAs(callerOf(c), action, run);
}

export function makeGovernAs(
  authorizer: Authorizer,
  audit: AuditLog,
  approvals: ApprovalService,
  scopes: TokenScopeGuard,
  telemetry: Telemetry = offTelemetry(),
): GovernAs {
  return async (caller, { action, resource, context: given = {}, precheck, outcomeOf, detailsOf }, run) => {
    const principal = caller.principal;
    const context = withRisk(given);
    const started = performance.now();
    // A capability token's records name the scope it acted under (the token's id is the principal).
    const scopeDigest = principal.grant ? { scopeDigest: principal.grant.digest } : {};
    const base = { requestId: caller.requestId, principal: principal.id, tenant: principal.tenant, action, resource };
    const span = telemetry.startSpan(
      `paddock ${action}`,
      { 'paddock.action': action, 'paddock.resource': resource, 'paddock.tenant': principal.tenant, 'paddock.principal': principal.id },
      caller.span,
    );
    if (typeof context.risk === 'number') span.setAttribute('paddock.risk', context.risk);
    const record = (decision: 'allow' | 'deny' | 'ask', outcome: string, details: Record<string, unknown> = context) => {
      audit.append({ ...base, decision, outcome, details: { ...unaudited(details), ...scopeDigest }, durationMs: performance.now() - started });
      span.setAttributes({ 'paddock.decision': decision, 'paddock.outcome': outcome });
      telemetry.policyDecisions.add(1, { action, decision });
      if (action === 'sandbox.exec' && outcome === 'ok') telemetry.execDuration.record(performance.now() - started);
      endSpan(span, outcome === 'ok' ? undefined : { message: outcome, code: outcome });
    };
    let admission: Admission | undefined;
    let checked: ReturnType<NonNullable<typeof precheck>> | undefined;
    try {
      admission = scopes.admit(principal, action, resource, context);
      checked = precheck?.();
    } catch (err) {
      admission?.failed();
      record('deny', err instanceof PaddockError ? err.code : 'internal_error');
      throw err;
    }
    const decision = await authorizer.authorize({ principal, action, resource, context });
    if (decision.effect === 'deny') {
      admission?.failed();
      record('deny', 'policy_denied', { ...context, reason: decision.reason });
      throw new PolicyDeniedError(decision.reason, { action });
    }
    let details = context;
    if (decision.effect === 'ask') {
      try {
        const approvalId = await approvals.settle(
          { principal, action, resource, context: given, reason: decision.reason },
          caller.approvalId,
          caller.approvalWaitMs,
          caller.signal,
        );
        details = { ...context, reason: decision.reason, approvalId };
        checked = undefined;
      } catch (err) {
        admission?.failed();
        record('ask', err instanceof PaddockError ? err.code : 'internal_error', { ...context, reason: decision.reason, ...approvalDetails(err) });
        throw err;
      }
    }
    const made = decision.effect;
    try {
      const result = await run(checked);
      record(made, outcomeOf?.(result) ?? 'ok', detailsOf ? { ...details, ...detailsOf(result) } : details);
      return result;
    } catch (err) {
      admission?.failed();
      record(made, err instanceof PaddockError ? err.code : 'internal_error', details);
      throw err;
    }
  };
}

/** How long a caller lets its request wait for a human (header, in seconds). */
function approvalWaitMs(header: string | undefined): number {
  return approvalWaitFromSeconds(Number(header ?? 0));
}

/** A wait for a human a caller asks for, in ms: at most 10 minutes, and none for nonsense. */
export function approvalWaitFromSeconds(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 600) * 1000 : 0;
}

function approvalDetails(err: unknown): Record<string, unknown> {
  return err instanceof PaddockError && typeof err.details.approvalId === 'string' ? { approvalId: err.details.approvalId } : {};
}

/** A cell's code is for the policy to read, not for the log to keep (it may hold data or secrets): the log keeps its digest and summary. */
function unaudited(details: Record<string, unknown>): Record<string, unknown> {
  if (!('code' in details)) return details;
  const { code: _code, ...rest } = details;
  return rest;
}

/** A command's risk score goes into what the policy sees and what the audit log keeps. */
function withRisk(context: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(context.cmd) || !context.cmd.every((a) => typeof a === 'string')) return context;
  const risk = assessCommand(context.cmd as string[]);
  // A shell reading its script from stdin: that script's risk counts too.
  const fromStdin = context.stdinRisk as { score: number; tags: string[] } | undefined;
  const score = Math.min(100, risk.score + (fromStdin?.score ?? 0));
  const tags = [...new Set([...risk.tags, ...(fromStdin?.tags ?? [])])].sort();
  return { ...context, risk: score, riskTags: tags, ...(risk.reasons.length ? { riskReasons: risk.reasons } : {}) };
}
