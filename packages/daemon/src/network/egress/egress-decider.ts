import type { Logger } from 'pino';
import type { Authorizer, Decision } from '../../policy/authorizer.js';
import type { AddressGuard } from '../address-guard.js';
import type { EgressResolver } from '../egress-resolver.js';
import { normalizeHost } from '../host-rules.js';
import type { NetworkService, SandboxNetwork } from '../network-service.js';
import type { Origin } from './arrival-header.js';
import { egressLimits } from './egress-limits.js';

/** Where an allowed connection goes: the name it asked for and the one address the proxy checked. */
export interface Target {
  host: string;
  port: number;
  address: string;
}

export type Verdict = { ok: true; target: Target; network: SandboxNetwork } | { ok: false; reason: string; network?: SandboxNetwork };

export interface EgressDeciderDeps {
  network: Pick<NetworkService, 'get'>;
  resolver: Pick<EgressResolver, 'resolve'>;
  guard: Pick<AddressGuard, 'refusal'>;
  /** Decides network.connect; with a generation, its decisions are remembered briefly until the policies change. */
  authorizer: Authorizer & { readonly generation?: number };
  logger: Logger;
  now?: () => number;
}

/**
 * Decides one connection: the sandbox's rules, then the policy, then the
 * name's addresses (each checked by the guard). A redirected connection
 * must have dialled one of those addresses. Whatever fails on the way is a
 * refusal with a reason, never a throw: a handler always has an answer to give.
 */
export class EgressDecider {
  private readonly decisions = new Map<string, { decision: Decision; generation: number; at: number }>();
  private readonly now: () => number;

  constructor(private readonly deps: EgressDeciderDeps) {
    this.now = deps.now ?? Date.now;
  }

  async decide(sandbox: string, rawHost: string, port: number, dialled?: Origin['dialled']): Promise<Verdict> {
    const network = this.deps.network.get(sandbox);
    if (!network || network.mode === 'none') return { ok: false, reason: 'the sandbox has no network' };
    const host = normalizeHost(rawHost);
    if (!host) return { ok: false, reason: 'no host named', network };
    const byRules = network.rules.decide(host, port);
    if (!byRules.allowed) return { ok: false, reason: byRules.reason, network };
    let byPolicy: Decision;
    try {
      byPolicy = await this.policyDecision(sandbox, network.tenant, host, port);
    } catch (err) {
      this.deps.logger.error({ err, sandbox, host, port }, 'the policy could not decide on a connection');
      return { ok: false, reason: 'policy: the policy could not be evaluated', network };
    }
    if (byPolicy.effect !== 'allow') return { ok: false, reason: `policy: ${byPolicy.reason}`, network };
    let addresses: string[];
    try {
      addresses = await this.deps.resolver.resolve(host);
    } catch (err) {
      return { ok: false, reason: `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, network };
    }
    if (!addresses.length) return { ok: false, reason: `${host} has no address`, network };
    if (dialled && !addresses.includes(dialled.address)) {
      return { ok: false, reason: `${host} does not resolve to ${dialled.address}, the address dialled`, network };
    }
    const candidates = dialled ? [dialled.address] : addresses;
    const address = candidates.find((a) => !this.deps.guard.refusal(a));
    if (!address) return { ok: false, reason: this.deps.guard.refusal(candidates[0] as string) as string, network };
    return { ok: true, target: { host, port, address }, network };
  }

  /**
   * The policy's word on sandbox → host:port. Requests on a keep-alive
   * connection repeat the same question many times a second: the answer is
   * kept for a second, and never across a change of the policies.
   */
  private async policyDecision(sandbox: string, owner: string, host: string, port: number): Promise<Decision> {
    const key = `${sandbox}\0${host}\0${port}`;
    const generation = this.deps.authorizer.generation;
    const known = this.decisions.get(key);
    if (known && generation !== undefined && known.generation === generation && this.now() - known.at < egressLimits.decisionTtlMs) return known.decision;
    const decision = await this.deps.authorizer.authorize({
      principal: { id: `sandbox:${sandbox}`, tenant: owner, role: 'agent', owner: `agent:sandbox-${sandbox}` },
      action: 'network.connect',
      resource: `sandbox:${sandbox}`,
      context: { host, port },
    });
    if (generation !== undefined) {
      if (this.decisions.size >= egressLimits.decisionsKept) this.decisions.clear();
      this.decisions.set(key, { decision, generation, at: this.now() });
    }
    return decision;
  }
}
