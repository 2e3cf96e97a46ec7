import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultLimits } from '@paddock/core';
import {
  ApprovalService,
  CedarAuthorizer,
  ensurePolicyDir,
  makeGovern,
  makeGovernAs,
  openDatabase,
  principalOf,
  RoleAuthorizer,
  SqliteAuditLog,
  TokenScopeGuard,
  TokenStore,
} from '@paddock/daemon';
import { pino } from 'pino';
import { agentRun, type BenchContext } from './benchmarks.js';
import { rotated } from './stats.js';

const now = () => performance.now();

/**
 * Governance, in-process: one authorize() decision (roles + the shipped Cedar
 * policies), a capability token's scope check (its use counted in the
 * database, as every call of a token with maxUses is), audit appends with the
 * hash chain, and the same exec through the
 * agent with and without the govern() wrapper the API puts around it
 * (authorize, risk scoring, audit record).
 */
export async function benchGovernance(ctx: BenchContext): Promise<{ appendsPerSecond: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'paddock-bench-gov-'));
  const db = openDatabase(join(dir, 'paddock.db'));
  const logger = pino({ level: 'silent' });
  try {
    ensurePolicyDir(join(dir, 'policies'));
    const policy = new CedarAuthorizer(new RoleAuthorizer(), join(dir, 'policies'), logger);
    policy.loadOrThrow();
    const principal = { id: 'tok_bench', tenant: 'default', role: 'agent' as const, owner: 'agent:bench' };
    // Each call names another command, so Cedar evaluates each: the authorizer remembers the answers to requests it saw
    // (cedar-authorizer.ts); the same request again is the `remembered` row.
    const request = (i: number) => ({
      principal,
      action: 'sandbox.exec',
      resource: 'sandbox:sb-bench',
      context: { cmd: ['sh', '-c', `python3 -m pytest -q tests/test_${i}.py`], user: 'root', risk: 0, riskTags: [] },
    });
    for (let i = 0; i < 200; i++) await policy.authorize(request(-i));
    for (let i = 0; i < 2000; i++) {
      const fresh = request(i);
      const t = now();
      await policy.authorize(fresh);
      ctx.samples.add('governance.authorize', now() - t);
      const again = request(i);
      const t2 = now();
      await policy.authorize(again);
      ctx.samples.add('governance.authorize.remembered', now() - t2);
    }

    benchScopeCheck(ctx, db);

    const audit = new SqliteAuditLog(db);
    const appends = 20_000;
    const record = {
      requestId: 'req',
      principal: 'tok_bench',
      tenant: 'default',
      action: 'sandbox.exec',
      resource: 'sandbox:sb-bench',
      decision: 'allow' as const,
      outcome: 'ok',
      durationMs: 3.2,
    };
    const t0 = now();
    for (let i = 0; i < appends; i++) audit.append({ ...record, details: { cmd: ['true'], i } });
    const appendsPerSecond = appends / ((now() - t0) / 1000);

    const govern = makeGovern(
      makeGovernAs(policy, audit, new ApprovalService(db, 60_000), new TokenScopeGuard({ tokens: new TokenStore(db), sandboxOf: () => undefined })),
    );
    const fakeRequest = { header: () => undefined, raw: { signal: new AbortController().signal } };
    const c = { get: (key: string) => (key === 'principal' ? principal : key === 'requestId' ? 'req' : undefined), req: fakeRequest } as never;
    const id = `bench-gov-${process.pid}`;
    await ctx.engine.launch({ id, tier: 'container', layers: [ctx.baseLayer], limits: defaultLimits });
    try {
      const agent = ctx.engine.agent(id);
      const variants = [
        { name: 'without', run: () => agentRun(agent, ['true']) },
        {
          name: 'with',
          run: () =>
            govern(c, { action: 'sandbox.exec', resource: `sandbox:${id}`, context: { cmd: ['true'], user: 'root' } }, () => agentRun(agent, ['true'])),
        },
      ];
      const n = Math.max(50, ctx.config.execIterations);
      for (let round = 0; round < ctx.config.warmup * 5 + n; round++) {
        for (const v of rotated(variants, round)) {
          ctx.signal.throwIfAborted();
          const t = now();
          await v.run();
          if (round >= ctx.config.warmup * 5) ctx.samples.add(`governance.exec.${v.name}`, now() - t);
        }
      }
    } finally {
      await ctx.engine.destroy(id);
    }
    return { appendsPerSecond };
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The scope check govern() runs before a capability token's decision: the token of the example, with a use limit, so each check writes its use. */
function benchScopeCheck(ctx: BenchContext, db: ReturnType<typeof openDatabase>): void {
  const tokens = new TokenStore(db);
  const sandbox = 'sb-benchbench01';
  const scope = { sandboxes: [sandbox], actions: ['sandbox.get', 'sandbox.exec', 'sandbox.file.read', 'sandbox.file.write'], maxUses: 1_000_000_000 };
  const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
  tokens.insert({
    id: 'tok_scoped',
    tenant: 'default',
    role: 'agent',
    name: null,
    owner: 'agent:bench',
    hash: 'bench',
    createdBy: 'admin',
    scope,
    scopeDigest: 'bench',
    expiresAt,
    parent: null,
  });
  const info = tokens.get('tok_scoped');
  if (!info) throw new Error('the bench token was not stored');
  const principal = principalOf(info);
  const guard = new TokenScopeGuard({ tokens, sandboxOf: () => undefined });
  const context = { cmd: ['sh', '-c', 'python3 -m pytest -q'], user: 'root' };
  for (let i = 0; i < 500; i++) guard.admit(principal, 'sandbox.exec', `sandbox:${sandbox}`, context);
  for (let i = 0; i < 5000; i++) {
    const t = now();
    guard.admit(principal, 'sandbox.exec', `sandbox:${sandbox}`, context);
    ctx.samples.add('governance.scopeCheck', now() - t);
  }
}
