import { type Tier, tiers } from '@paddock/core';
import { InvalidSettingError } from './daemon-settings.js';

/**
 * Isolation a test build takes away on purpose, so the tests (and
 * `paddock check --probes`) can show that the probes notice a weakened tier.
 * Read only from PADDOCK_TEST_WEAKEN, never a flag or the settings table
 * (`paddockd --help` does not list it), and refused on the production state
 * folder; a daemon that runs with it logs it at start and `paddock check`
 * reports it as a failure.
 */
export interface TestWeakening {
  /** Per tier, syscalls let through the seccomp filter. */
  seccompAllowed: Partial<Record<Tier, string[]>>;
}

export const testWeakeningVariable = 'PADDOCK_TEST_WEAKEN';
export const productionStateDir = '/var/lib/paddock';

export function noWeakening(): TestWeakening {
  return { seccompAllowed: {} };
}

export function isWeakened(w: TestWeakening): boolean {
  return Object.values(w.seccompAllowed).some((names) => names.length > 0);
}

/** Reads `seccomp:<tier>:<syscall>[+<syscall>…]`, comma-separated (e.g. seccomp:container:add_key+keyctl). */
export function readTestWeakening(value: string | undefined, stateDir: string): TestWeakening {
  const weakening = noWeakening();
  if (!value?.trim()) return weakening;
  if (stateDir === productionStateDir) {
    throw new InvalidSettingError(`${testWeakeningVariable} weakens isolation for tests; it is refused on ${productionStateDir}`);
  }
  for (const item of value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)) {
    const [kind, tier, names = ''] = item.split(':');
    const syscalls = names.split('+').filter(Boolean);
    if (kind !== 'seccomp' || !tiers.includes(tier as Tier) || !syscalls.length || !syscalls.every((n) => /^[a-z0-9_]{1,40}$/.test(n))) {
      throw new InvalidSettingError(`${testWeakeningVariable}: "${item}" is not seccomp:<tier>:<syscall>[+<syscall>…]`);
    }
    weakening.seccompAllowed[tier as Tier] = [...(weakening.seccompAllowed[tier as Tier] ?? []), ...syscalls];
  }
  return weakening;
}
