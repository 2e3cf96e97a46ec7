import type { Tier } from '@paddock/core';
import type { Sandbox } from '@paddock/sdk';

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
