import { randomUUID } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { BadRequestError, ownerKindOf } from '@paddock/core';
import type { Logger } from 'pino';
import type { Principal } from '../auth/token-auth.js';
import type { AuthorizationRequest, Authorizer, Decision } from './authorizer.js';
import { type CompiledPolicies, compilePolicies, type LoadedPolicy, type PolicyProblem, policyName, readPolicyDir } from './policy-set.js';

export interface Explanation {
  decision: Decision;
  /** The policies that decided (a deny names its forbids; an allow its permits). */
  policies: string[];
}

/** Cedar answers remembered at most (each a few hundred bytes of key and answer). */
const maxRememberedAnswers = 512;

type CedarCall = Parameters<typeof cedar.statefulIsAuthorized>[0];
type CedarAnswer = ReturnType<typeof cedar.statefulIsAuthorized>;
const resourceTypes: Record<string, string> = {
  sandbox: 'Sandbox',
  template: 'Template',
  tenant: 'Tenant',
  token: 'Token',
  audit: 'Audit',
  policy: 'PolicyStore',
  approval: 'Approval',
  pool: 'Pool',
  system: 'System',
  secret: 'Secret',
  registry: 'Registry',
  'mcp-server': 'McpServer',
  'mcp-session': 'McpSession',
  volume: 'Volume',
};

/**
 * The decision point: role boundaries first (RoleAuthorizer), then the
 * operator's Cedar policies from the policies folder. A forbid annotated
 * @ask asks a human instead of denying; @reason explains a deny.
 */
export class CedarAuthorizer implements Authorizer {
  private byId = new Map<string, LoadedPolicy>();
  /** Per action, whether the policies in force can only allow it (see plainlyAllowed); cleared with each new set. */
  private readonly shortcuts = new Map<string, boolean>();
  /** The scope attributes some policy in force names (see scopeAttrs); cleared with each new set. */
  private scopeAttrsRead = new Set<string>();
  /**
   * Cedar's answers to the requests seen last, by the request exactly as sent
   * (principal and resource entities, action, context). An evaluation is a
   * pure function of that and the policies in force (Cedar reads no clock and
   * no outside state), so a remembered answer is the same decision, ~0.3 ms
   * sooner; cleared with each new set.
   */
  private readonly answers = new Map<string, CedarAnswer>();
  /**
   * Resource types whose ids no policy in force can tell apart: Cedar sees an
   * entity's id only by comparing it with a literal (`Paddock::Sandbox::"sb-…"`)
   * or with another entity, so where no policy names one of that type, and no
   * other entity of the request has that type, requests about two of them with the same attributes and parents get the
   * same answer, and are remembered as one (the first exec in each new sandbox
   * would otherwise be evaluated afresh). Tokens and tenants never are: every
   * request holds one of each (the principal and its tenant), which a policy
   * can compare a resource with (`resource == principal`, `principal in
   * resource`). Cleared with each new set.
   */
  private anonymousIds = new Set<string>();
  /** The name of this authorizer's preparsed set in the wasm module, which is shared by the whole process (tests run several daemons in one). */
  private readonly preparsedId = `paddock-${randomUUID()}`;
  private problems: PolicyProblem[] = [];
  private loadedAt = '';
  /** Bumped whenever another set of policies is installed: decisions remembered before it are stale. */
  generation = 0;
  private watcher: FSWatcher | undefined;

  constructor(
    private readonly roles: Authorizer,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /** Loads the folder; at start-up a folder with problems stops the daemon, naming file and line. */
  loadOrThrow(): void {
    const compiled = compilePolicies(readPolicyDir(this.dir));
    if (compiled.problems.length) {
      const first = compiled.problems[0] as PolicyProblem;
      throw new BadRequestError(`policy ${this.dir}/${first.file}:${first.line}: ${first.message}`, { problems: compiled.problems }, 'invalid_policy');
    }
    this.install(compiled);
  }

  /** Reloads when a file in the folder changes; a broken edit keeps the last good set and is reported. */
  watch(): () => void {
    let timer: NodeJS.Timeout | undefined;
    this.watcher = watch(this.dir, () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.reload(), 100);
    });
    return () => {
      clearTimeout(timer);
      this.watcher?.close();
    };
  }

  reload(): CompiledPolicies {
    const compiled = compilePolicies(readPolicyDir(this.dir));
    if (compiled.problems.length) {
      this.problems = compiled.problems;
      this.logger.error({ problems: compiled.problems }, 'policies not reloaded: the folder has problems; the last good set stays');
    } else {
      this.install(compiled);
      this.logger.info({ policies: compiled.policies.length }, 'policies reloaded');
    }
    return compiled;
  }

  status() {
    return {
      dir: this.dir,
      loadedAt: this.loadedAt,
      policies: [...this.byId.values()].map((p) => ({ id: p.id, name: policyName(p), effect: p.effect, annotations: p.annotations })),
      problems: this.problems,
    };
  }

  /** The policies in force, as loaded (their scopes read for analysis: see check/policy-analysis.ts). */
  loadedPolicies(): LoadedPolicy[] {
    return [...this.byId.values()];
  }

  async authorize(request: AuthorizationRequest): Promise<Decision> {
    if (this.plainlyAllowed(request.action)) {
      const byRole = await this.roles.authorize(request);
      if (byRole.effect !== 'allow') return byRole;
      return { effect: 'allow' };
    }
    return (await this.explain(request)).decision;
  }

  /**
   * Whether Cedar can only allow this action: some permit applies to it with
   * nothing narrowing it, and no forbid names it or every action. Such a
   * decision is known without evaluating (which costs ~0.3 ms here).
   */
  private plainlyAllowed(action: string): boolean {
    let known = this.shortcuts.get(action);
    if (known === undefined) {
      const applies = [...this.byId.values()].filter((p) => p.scope.actions === 'all' || p.scope.actions.includes(action));
      known = !applies.some((p) => p.effect === 'forbid') && applies.some((p) => p.effect === 'permit' && p.scope.unconditional);
      this.shortcuts.set(action, known);
    }
    return known;
  }

  async explain(request: AuthorizationRequest): Promise<Explanation> {
    const byRole = await this.roles.authorize(request);
    if (byRole.effect !== 'allow') return { decision: byRole, policies: ['role boundaries'] };
    const answer = this.evaluate({
      principal: principalUid(request.principal),
      action: { type: 'Paddock::Action', id: request.action },
      resource: resourceUid(request.resource),
      context: cedarContext(request.context),
      preparsedPolicySetId: this.preparsedId,
      entities: entitiesFor(request, this.scopeAttrsRead),
    });
    if (answer.type === 'failure') {
      this.logger.error({ errors: answer.errors, action: request.action }, 'policy evaluation failed');
      return { decision: { effect: 'deny', reason: 'the policy engine could not decide; denied to be safe' }, policies: [] };
    }
    const { decision, diagnostics } = answer.response;
    for (const e of diagnostics.errors) this.logger.warn({ policy: e.policyId, error: e.error.message }, 'a policy errored and was skipped');
    const deciding = diagnostics.reason.map((id) => this.byId.get(id)).filter((p): p is LoadedPolicy => !!p);
    const names = deciding.map(policyName);
    if (decision === 'allow') return { decision: { effect: 'allow' }, policies: names };
    if (deciding.length === 0) return { decision: { effect: 'deny', reason: `no policy permits ${request.action}` }, policies: [] };
    const hard = deciding.filter((p) => p.annotations.ask === undefined);
    if (hard.length === 0) {
      return { decision: { effect: 'ask', reason: deciding.map((p) => p.annotations.ask || policyName(p)).join('; ') }, policies: names };
    }
    return { decision: { effect: 'deny', reason: hard.map((p) => p.annotations.reason || `denied by policy ${policyName(p)}`).join('; ') }, policies: names };
  }

  private evaluate(call: CedarCall): CedarAnswer {
    const key = JSON.stringify(this.anonymousIds.has((call.resource as { type: string }).type) ? withoutResourceId(call) : call);
    const known = this.answers.get(key);
    if (known) {
      // Kept as the most recent (a Map iterates in insertion order: the first key is the oldest).
      this.answers.delete(key);
      this.answers.set(key, known);
      return known;
    }
    const answer = cedar.statefulIsAuthorized(call);
    if (answer.type === 'failure') return answer;
    this.answers.set(key, answer);
    if (this.answers.size > maxRememberedAnswers) this.answers.delete(this.answers.keys().next().value as string);
    return answer;
  }

  private install(compiled: CompiledPolicies): void {
    const staticPolicies = Object.fromEntries(compiled.policies.map((p) => [p.id, p.text]));
    const parsed = cedar.preparsePolicySet(this.preparsedId, { staticPolicies });
    if (parsed.type === 'failure') throw new BadRequestError(`policies: ${parsed.errors[0]?.message}`, {}, 'invalid_policy');
    this.byId = new Map(compiled.policies.map((p) => [p.id, p]));
    this.scopeAttrsRead = new Set(scopeAttrNames.filter((name) => compiled.policies.some((p) => new RegExp(`\\b${name}\\b`).test(p.text))));
    this.anonymousIds = new Set(
      Object.values(resourceTypes)
        .filter((type) => !typesOfEveryRequest.has(type) && !compiled.policies.some((p) => new RegExp(`\\b${type}\\s*::\\s*"`).test(p.text)))
        .map((type) => `Paddock::${type}`),
    );
    this.shortcuts.clear();
    this.answers.clear();
    this.problems = [];
    this.loadedAt = new Date().toISOString();
    this.generation += 1;
  }
}

/** Entity types every request holds besides its resource (see entitiesFor). */
const typesOfEveryRequest = new Set(['Token', 'Tenant']);

/** The call with its resource's id blanked, in the request and in the entity that stands for it (a key for remembered answers). */
function withoutResourceId(call: CedarCall): CedarCall {
  const { type, id } = call.resource as { type: string; id: string };
  const blank = { type, id: '' };
  const entities = (call.entities as Array<{ uid: { type: string; id: string } }>).map((e) =>
    e.uid.type === type && e.uid.id === id ? { ...e, uid: blank } : e,
  );
  return { ...call, resource: blank, entities } as CedarCall;
}

function principalUid(p: Principal) {
  return { type: 'Paddock::Token', id: p.id };
}

function resourceUid(resource: string) {
  const colon = resource.indexOf(':');
  const kind = resource.slice(0, colon);
  return { type: `Paddock::${resourceTypes[kind] ?? 'Audit'}`, id: resource.slice(colon + 1) };
}

function entitiesFor({ principal, resource }: AuthorizationRequest, scopeAttrsRead: ReadonlySet<string>) {
  const tenant = { type: 'Paddock::Tenant', id: principal.tenant };
  const entities: Array<{ uid: { type: string; id: string }; attrs: Record<string, CedarAttr>; parents: Array<{ type: string; id: string }> }> = [
    {
      uid: principalUid(principal),
      attrs: {
        role: principal.role,
        tenant: principal.tenant,
        owner: principal.owner,
        ownerKind: ownerKindOf(principal.owner),
        ...scopeAttrs(principal, scopeAttrsRead),
      },
      parents: [tenant],
    },
    { uid: tenant, attrs: {}, parents: [] },
  ];
  const uid = resourceUid(resource);
  // A caller only ever reaches its own tenant's sandboxes (others answer 404 before this matters).
  if (uid.type === 'Paddock::Sandbox') entities.push({ uid, attrs: { tenant: principal.tenant }, parents: [tenant] });
  if (uid.type === 'Paddock::McpServer' || uid.type === 'Paddock::Volume') entities.push({ uid, attrs: {}, parents: [tenant] });
  // A token acting on itself (revoking itself, say) is already there as the principal: Cedar refuses an entity given twice.
  if (uid.type === 'Paddock::Token' && uid.id !== principal.id)
    entities.push({ uid, attrs: { role: '', tenant: principal.tenant, owner: '', ownerKind: '', scoped: false }, parents: [tenant] });
  return entities;
}

type CedarAttr = string | number | boolean | string[];

/** The Token entity's optional scope attributes (the schema's), as policies name them. */
const scopeAttrNames = ['scopeSandboxes', 'scopeLabels', 'scopeActions', 'scopeTemplates', 'scopeTiers', 'maxUses', 'maxSandboxes', 'expiresAt'];

/**
 * A capability token's scope as the Token entity's attributes; an open field
 * is left out. Only the attributes some policy names are passed: one no
 * policy reads cannot change a decision (Cedar has no dynamic attribute
 * names), and each costs the evaluation time.
 */
function scopeAttrs({ grant }: Principal, read: ReadonlySet<string>): Record<string, CedarAttr> {
  if (!grant) return { scoped: false };
  const { scope, expiresAt } = grant;
  const all: Record<string, CedarAttr | undefined> = {
    scopeSandboxes: scope.sandboxes,
    scopeLabels: scope.labels && Object.entries(scope.labels).map(([k, v]) => `${k}=${v}`),
    scopeActions: scope.actions,
    scopeTemplates: scope.templates,
    scopeTiers: scope.tiers,
    maxUses: scope.maxUses,
    maxSandboxes: scope.maxSandboxes,
    expiresAt: expiresAt ?? undefined,
  };
  const attrs: Record<string, CedarAttr> = { scoped: true };
  for (const name of read) {
    const value = all[name];
    if (value !== undefined) attrs[name] = value;
  }
  return attrs;
}

/** The facts of a request that go to Cedar as strings when they are. */
const stringFacts = [
  'tenant',
  'template',
  'tier',
  'user',
  'path',
  'to',
  'op',
  'role',
  'owner',
  'host',
  'network',
  'server',
  'tool',
  'argsDigest',
  'code',
  'language',
  // Where desktop input goes (desktop.input): the focused window's title, its page's URL and host, as the sandbox says.
  'window',
  'url',
  'domain',
] as const;

/** The request facts, in the shape the schema's RequestContext declares. */
export function cedarContext(context: Record<string, unknown>): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = {};
  for (const key of stringFacts) {
    const value = context[key];
    if (typeof value === 'string') out[key] = value;
  }
  const labels = context.labels ?? context.metadata;
  if (labels && typeof labels === 'object') out.labels = Object.entries(labels as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`);
  if (Array.isArray(context.cmd) && context.cmd.every((a) => typeof a === 'string')) {
    const cmd = context.cmd as string[];
    out.argv = cmd;
    out.command = cmd.join(' ');
    out.program = cmd[0]?.split('/').at(-1) ?? '';
  }
  if (typeof context.risk === 'number') out.risk = Math.round(context.risk);
  if (Array.isArray(context.riskTags)) out.riskTags = context.riskTags as string[];
  if (typeof context.port === 'number') out.port = context.port;
  if (typeof context.chars === 'number') out.chars = context.chars;
  for (const key of ['hosts', 'secrets', 'files', 'images', 'registries', 'actions'] as const) {
    const value = context[key];
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value as string[];
  }
  return out;
}
