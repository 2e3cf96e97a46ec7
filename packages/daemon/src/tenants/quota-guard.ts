import { type Limits, QuotaExceededError } from '@paddock/core';
import type { TenantStore, TenantUsage } from '../store/tenant-store.js';

/**
 * Holds a tenant to its quotas when it creates sandboxes. Creations still in
 * flight count as used, so concurrent requests cannot slip past a limit
 * together.
 */
export class QuotaGuard {
  private readonly pending = new Map<string, TenantUsage>();

  constructor(private readonly tenants: TenantStore) {}

  /** Reserves room for one sandbox with these limits; the returned function gives it back (call it once the sandbox is recorded or failed). */
  reserve(tenant: string, limits: Limits): () => void {
    const quotas = this.tenants.get(tenant);
    // The tenant record carries its usage already; pool owners and unknown tenants have no record.
    const used = quotas?.usage ?? this.tenants.usage(tenant);
    const inFlight = this.pending.get(tenant) ?? { sandboxes: 0, memoryMiB: 0, cpus: 0 };
    const after = {
      sandboxes: used.sandboxes + inFlight.sandboxes + 1,
      memoryMiB: used.memoryMiB + inFlight.memoryMiB + limits.memoryMiB,
      cpus: used.cpus + inFlight.cpus + limits.cpus,
    };
    const checks: Array<[keyof typeof wording, number | null | undefined, number]> = [
      ['maxSandboxes', quotas?.maxSandboxes, after.sandboxes],
      ['maxMemoryMiB', quotas?.maxMemoryMiB, after.memoryMiB],
      ['maxCpus', quotas?.maxCpus, after.cpus],
    ];
    for (const [quota, limit, wanted] of checks) {
      if (limit !== null && limit !== undefined && wanted > limit + 1e-9) {
        throw new QuotaExceededError(`quota exceeded: tenant ${tenant} may have ${wording[quota](limit)}; this sandbox would make it ${round(wanted)}`, {
          tenant,
          quota,
          limit,
          requested: round(wanted),
        });
      }
    }
    this.pending.set(tenant, {
      sandboxes: inFlight.sandboxes + 1,
      memoryMiB: inFlight.memoryMiB + limits.memoryMiB,
      cpus: inFlight.cpus + limits.cpus,
    });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = this.pending.get(tenant);
      if (!now) return;
      const left = { sandboxes: now.sandboxes - 1, memoryMiB: now.memoryMiB - limits.memoryMiB, cpus: now.cpus - limits.cpus };
      if (left.sandboxes <= 0) this.pending.delete(tenant);
      else this.pending.set(tenant, left);
    };
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

const wording = {
  maxSandboxes: (n: number) => `at most ${n} live sandbox${n === 1 ? '' : 'es'}`,
  maxMemoryMiB: (n: number) => `at most ${n} MiB of memory across its live sandboxes`,
  maxCpus: (n: number) => `at most ${n} CPUs across its live sandboxes`,
};
