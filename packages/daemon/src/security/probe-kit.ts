import type { Tier } from '@paddock/core';
import type { ConnectionOptions, Sandbox } from '@paddock/sdk';
import { type Probe, probeContext, probes } from '@paddock/sdk/probes';
import { expect } from 'vitest';

/**
 * Every probe runs on every tier this machine offers; `make deps` installs
 * runsc, so on a Paddock host both are there. Where a tier answers an attack
 * differently (gVisor implements its own kernel), the probe says why.
 */
export const probeTiers: readonly Tier[] = ['container', 'gvisor'];

/** Runs a shell script inside a sandbox, as root unless a user is given; never throws on a non-zero exit. */
export function sh(sbx: Sandbox, script: string, user?: string) {
  return sbx.commands.runAllowingFailure(['sh', '-c', script], { user });
}

/** Runs a Python program inside a sandbox. */
export function py(sbx: Sandbox, lines: string[], user?: string) {
  return sbx.commands.runAllowingFailure(['python3', '-c', lines.join('\n')], { user });
}

/** A probe of the catalogue by id: the same function `paddock check --probes` runs. */
export function probe(id: string): Probe {
  const found = probes.find((p) => p.id === id);
  if (!found) throw new Error(`no probe ${id} in @paddock/sdk/probes`);
  return found;
}

/**
 * Where a test file runs catalogue probes on one tier: their sandboxes (a
 * shared one, and those a probe makes) are all killed by close().
 */
export function probeRun(conn: () => ConnectionOptions, tier: Tier) {
  let ctx: ReturnType<typeof probeContext> | undefined;
  return {
    /** Runs the probe and expects it held; a broken one fails the test with its evidence. */
    async expectHeld(id: string): Promise<string> {
      ctx ??= probeContext(conn(), tier);
      const outcome = await probe(id).run(ctx);
      expect(outcome.status, outcome.evidence).toBe('held');
      return outcome.evidence;
    },
    async close(): Promise<void> {
      await ctx?.close();
    },
  };
}
