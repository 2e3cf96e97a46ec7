import type { Tier } from '@paddock/core';
import { deniedSyscalls, type SeccompProfile, seccompProfile } from './seccomp-profile.js';

const EPERM = 1;

/** clone() flags that create namespaces, each refused by its own rule (rules are ORed). */
const namespaceCloneFlags = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000] as const;

/**
 * The seccomp profile of a tier. The container tier gets the default-deny
 * allowlist: its syscalls reach the host kernel. Under gVisor they reach the
 * sandbox's own kernel (the sentry), which implements a subset and answers
 * ENOSYS for the rest, keeping libc's fallbacks working; this runsc build
 * ignores errnoRet and would answer EPERM to anything a default-deny filter
 * refused (glibc's clone3 → clone fallback then breaks thread creation). So
 * the gVisor profile allows by default and refuses the same dangerous set.
 */
export function seccompProfileFor(tier: Tier): SeccompProfile {
  if (tier === 'container') return seccompProfile();
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { names: [...deniedSyscalls], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      ...namespaceCloneFlags.map((flag) => ({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: EPERM,
        args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' as const }],
      })),
    ],
  };
}
