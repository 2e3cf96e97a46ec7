import { describe, expect, it } from 'vitest';
import { networksOf, resolverError, sandboxNetwork, silentLogger, TestPolicy, tableResolver } from '../../testing/egress-kit.js';
import { AddressGuard } from '../address-guard.js';
import { EgressDecider } from './egress-decider.js';

function decider(options: { policy?: TestPolicy; resolver?: ReturnType<typeof tableResolver>; clock?: { now: number }; allow?: string[] } = {}) {
  const policy = options.policy ?? new TestPolicy();
  const resolver =
    options.resolver ??
    tableResolver({ 'api.test': ['203.0.113.9', '93.184.216.34'], 'inside.test': ['10.1.2.3'], 'down.test': resolverError('ESERVFAIL'), 'empty.test': [] });
  const clock = options.clock ?? { now: 1_000_000 };
  const network = sandboxNetwork('sb1', options.allow ?? ['api.test', 'inside.test', 'down.test', 'empty.test', 'policy.test']);
  const egress = new EgressDecider({
    network: networksOf(network, sandboxNetwork('sb-none', ['api.test'], { mode: 'none' })),
    resolver,
    guard: new AddressGuard(),
    authorizer: policy,
    logger: silentLogger,
    now: () => clock.now,
  });
  return { egress, policy, resolver, clock, network };
}

describe('egress decider', () => {
  it('allows an allowed name at the first address the guard accepts, and refuses by rules, policy, resolver and guard, each with its reason', async () => {
    const { egress, network } = decider();
    expect(await egress.decide('sb1', 'API.test.', 443)).toEqual({ ok: true, target: { host: 'api.test', port: 443, address: '93.184.216.34' }, network });
    expect(await egress.decide('gone', 'api.test', 443)).toEqual({ ok: false, reason: 'the sandbox has no network' });
    expect(await egress.decide('sb-none', 'api.test', 443)).toEqual({ ok: false, reason: 'the sandbox has no network' });
    expect(await egress.decide('sb1', 'other.test', 443)).toMatchObject({ ok: false, network });
    expect(await egress.decide('sb1', 'down.test', 443)).toEqual({ ok: false, reason: 'cannot resolve down.test: ESERVFAIL', network });
    expect(await egress.decide('sb1', 'empty.test', 443)).toEqual({ ok: false, reason: 'empty.test has no address', network });
    expect(await egress.decide('sb1', 'inside.test', 443)).toEqual({ ok: false, reason: '10.1.2.3 is a private address', network });
  });

  it('a redirected connection must have dialled one of the name’s addresses, and that address is the one checked', async () => {
    const { egress } = decider();
    expect(await egress.decide('sb1', 'api.test', 443, { address: '198.51.100.7', port: 443 })).toMatchObject({
      ok: false,
      reason: 'api.test does not resolve to 198.51.100.7, the address dialled',
    });
    expect(await egress.decide('sb1', 'api.test', 443, { address: '203.0.113.9', port: 443 })).toMatchObject({
      ok: false,
      reason: '203.0.113.9 is a documentation address',
    });
  });

  it('asks the policy with the sandbox as principal, and says the policy’s reason', async () => {
    const policy = new TestPolicy((request) => (request.context.host === 'policy.test' ? { effect: 'deny', reason: 'forbidden by p1' } : { effect: 'allow' }));
    const { egress } = decider({ policy });
    expect(await egress.decide('sb1', 'policy.test', 443)).toMatchObject({ ok: false, reason: 'policy: forbidden by p1' });
    expect(policy.asked[0]).toEqual({
      principal: { id: 'sandbox:sb1', tenant: 'tenant-a', role: 'agent', owner: 'agent:sandbox-sb1' },
      action: 'network.connect',
      resource: 'sandbox:sb1',
      context: { host: 'policy.test', port: 443 },
    });
  });

  it('remembers the policy’s answer for a second, never across a change of the policies, and not at all from a policy with no generation', async () => {
    const { egress, policy, clock } = decider();
    await egress.decide('sb1', 'api.test', 443);
    await egress.decide('sb1', 'api.test', 443);
    expect(policy.asked).toHaveLength(1);
    await egress.decide('sb1', 'api.test', 8443);
    expect(policy.asked).toHaveLength(2);
    clock.now += 999;
    await egress.decide('sb1', 'api.test', 443);
    expect(policy.asked).toHaveLength(2);
    clock.now += 1;
    await egress.decide('sb1', 'api.test', 443);
    expect(policy.asked).toHaveLength(3);
    policy.generation = 1;
    await egress.decide('sb1', 'api.test', 443);
    expect(policy.asked).toHaveLength(4);
    policy.generation = undefined;
    await egress.decide('sb1', 'api.test', 443);
    await egress.decide('sb1', 'api.test', 443);
    expect(policy.asked).toHaveLength(6);
  });

  it('a policy that fails to decide is a refusal with a reason, never a throw', async () => {
    const policy = new TestPolicy(() => {
      throw new Error('policy store unreadable');
    });
    const { egress, network } = decider({ policy });
    expect(await egress.decide('sb1', 'api.test', 443)).toEqual({ ok: false, reason: 'policy: the policy could not be evaluated', network });
  });
});
