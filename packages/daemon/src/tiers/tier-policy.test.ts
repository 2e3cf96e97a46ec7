import { rmSync } from 'node:fs';
import { PolicyDeniedError } from '@paddock/core';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';
import { writeTierConfig } from '../testing/tier-config.js';
import { TierPolicy, TierPolicySchema } from './tier-policy.js';

// The operator's tier floor: a request may ask for a tier or for auto, and
// never gets less than the minimum its template and labels call for. What the
// real tiers give (gVisor's kernel) and that paddockd refuses a bad config
// file are in tier-policy-sandbox.test.ts.
let daemon: TestDaemon;
// Made in beforeAll, not as the file loads: `vitest list` loads files without running their hooks.
let configDir: string;
let configFile: string;

beforeAll(async () => {
  ({ configDir, configFile } = writeTierConfig());
  daemon = await startFastDaemon(['--config', configFile]);
});

afterAll(async () => {
  await daemon?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

describe('tier choice', () => {
  it('T1: refuses an explicit tier weaker than the minimum with 403, and makes nothing', async () => {
    const before = (await Sandbox.list({ ...daemon.conn, state: 'all' })).length;
    const err = await Sandbox.create({ ...daemon.conn, tier: 'container', metadata: { risk: 'high' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: 'policy_denied', details: { tier: 'container', minimumTier: 'gvisor' } });
    expect((await Sandbox.list({ ...daemon.conn, state: 'all' })).length).toBe(before);
    // A stronger tier than the minimum is always fine.
    const strong = await Sandbox.create({ ...daemon.conn, tier: 'gvisor' });
    expect(strong.tier).toBe('gvisor');
    await strong.kill();
  });

  it('matches template globs and labels, and takes the strongest floor that applies', () => {
    const policy = new TierPolicy(
      TierPolicySchema.parse({
        rules: [
          { template: 'untrusted-*', minimum: 'gvisor' },
          { template: 'base', labels: { team: 'red' }, minimum: 'gvisor' },
        ],
      }),
      ['container', 'gvisor'],
    );
    expect(policy.choose({ template: 'untrusted-tool', labels: {} }).tier).toBe('gvisor');
    expect(policy.choose({ template: 'untrusted', labels: {} }).tier).toBe('container');
    expect(policy.choose({ template: 'my-untrusted-x', labels: {} }).tier).toBe('container');
    expect(policy.choose({ template: 'base', labels: { team: 'red' } }).tier).toBe('gvisor');
    expect(policy.choose({ template: 'base', labels: { team: 'blue' } }).tier).toBe('container');
    expect(() => policy.choose({ template: 'untrusted-tool', labels: {}, tier: 'container' })).toThrow(PolicyDeniedError);
    const noGvisor = new TierPolicy(TierPolicySchema.parse({ minimum: 'gvisor' }), ['container']);
    expect(() => noGvisor.choose({ template: 'base', labels: {} })).toThrow(expect.objectContaining({ code: 'tier_unavailable', status: 400 }));
  });
});
