import { ownerKindOf, type Role } from '@paddock/core';
import type { AuthorizationRequest, Authorizer, Decision } from './authorizer.js';

const rank: Record<Role, number> = { agent: 0, operator: 1, admin: 2 };

/** The least role each action needs; actions not named here are open to every role (the sandbox work agents do). */
const minimumRole: Record<string, Role> = {
  'tenant.create': 'admin',
  'tenant.update': 'admin',
  'tenant.delete': 'admin',
  'audit.verify': 'admin',
  'system.gc': 'admin',
  // The security report reads host facts, settings and every policy: an admin's view.
  'system.check': 'admin',
  'tenant.list': 'operator',
  'tenant.get': 'operator',
  'token.create': 'operator',
  'token.list': 'operator',
  'token.revoke': 'operator',
  'audit.read': 'operator',
  'policy.read': 'operator',
  'approval.list': 'operator',
  // Pools are host capacity outside every tenant's quota: an admin's to set.
  'pool.set': 'admin',
  'pool.list': 'operator',
  'pool.remove': 'admin',
  'approval.approve': 'operator',
  'approval.self_approve': 'operator',
  'approval.deny': 'operator',
  'policy.check': 'operator',
  'policy.test': 'operator',
  'template.build': 'operator',
  'template.remove': 'operator',
  // Whoever sets a secret's hosts decides where its value goes: not an agent's call.
  'secret.set': 'operator',
  'secret.remove': 'operator',
  // A registry login decides whose images a tenant's templates are made from, like a secret's hosts.
  'registry.login': 'operator',
  'registry.logout': 'operator',
  // A gateway server runs code with the tenant's secrets and hosts: an operator's to add, change or pin.
  'gateway.server.set': 'operator',
  'gateway.server.remove': 'operator',
  'gateway.server.restart': 'operator',
  'gateway.server.pin': 'operator',
  // A public link lets in whoever holds it, token or not: an operator's call, like a secret's hosts.
  'sandbox.port.expose': 'operator',
};

/**
 * Role rules at the one decision point: what a role may do, and that only an
 * admin reaches across tenants or mints admin tokens. Cedar policies (the
 * governance issue's next part) refine decisions within what roles allow.
 */
export class RoleAuthorizer implements Authorizer {
  async authorize({ principal, action, context }: AuthorizationRequest): Promise<Decision> {
    const needed = minimumRole[action] ?? 'agent';
    if (rank[principal.role] < rank[needed] && !narrowingCopy(principal.role, action, context)) {
      return { effect: 'deny', reason: `${action} needs the ${needed} role; this token is ${principal.role}` };
    }
    if (principal.role !== 'admin') {
      const tenant = context.tenant;
      if (typeof tenant === 'string' && tenant !== principal.tenant) {
        // Reported as policy, not as "not found": the caller named the tenant itself.
        return { effect: 'deny', reason: `only an admin acts on another tenant (${tenant})` };
      }
      if (action === 'token.create' && context.role === 'admin') return { effect: 'deny', reason: 'only an admin creates admin tokens' };
      // An operator that could mint a token for another person could approve its own requests through it.
      if (action === 'token.create' && typeof context.owner === 'string' && context.owner !== principal.owner && ownerKindOf(context.owner) !== 'agent') {
        return {
          effect: 'deny',
          reason: `only an admin makes a token for another person (${context.owner}); an operator makes them for itself (${principal.owner}) or for agents (agent:…)`,
        };
      }
      if (action === 'gateway.server.set' && Array.isArray(context.files) && context.files.length) {
        return { effect: 'deny', reason: "host files are the host's: only an admin gives them to a gateway server" };
      }
    }
    return { effect: 'allow' };
  }
}

/**
 * An agent may mint a scoped agent token: a narrower copy of itself for a
 * subagent or an MCP client (TenantService holds it to every field of the
 * agent's own scope). It can do nothing the agent cannot.
 */
function narrowingCopy(role: Role, action: string, context: Record<string, unknown>): boolean {
  return role === 'agent' && action === 'token.create' && context.role === 'agent' && context.scoped === true;
}
