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
    const inFlight = this.pending.get(tenant) ?? { sandboxes: 0, memoryMiB: 0, cpus: 0 };
    this.check(tenant, limits, inFlight);
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

  /**
   * Throws QuotaExceededError when one more sandbox would pass a quota. The
   * usage is summed over the tenant's live sandboxes (a scan that grows with
   * them), so only for a tenant that has a sandbox quota at all: pool owners,
   * unknown tenants and tenants without one have nothing to check.
   */
  private check(tenant: string, limits: Limits, inFlight: TenantUsage): void {
    const quotas = this.tenants.sandboxQuotas(tenant);
    if (!quotas || (quotas.maxSandboxes === null && quotas.maxMemoryMiB === null && quotas.maxCpus === null)) return;
    const used = this.tenants.usage(tenant);
    const after = {
      sandboxes: used.sandboxes + inFlight.sandboxes + 1,
      memoryMiB: used.memoryMiB + inFlight.memoryMiB + limits.memoryMiB,
      cpus: used.cpus + inFlight.cpus + limits.cpus,
    };
    const checks: Array<[keyof typeof wording, number | null, number]> = [
      ['maxSandboxes', quotas.maxSandboxes, after.sandboxes],
      ['maxMemoryMiB', quotas.maxMemoryMiB, after.memoryMiB],
      ['maxCpus', quotas.maxCpus, after.cpus],
    ];
    for (const [quota, limit, wanted] of checks) {
      if (limit !== null && wanted > limit + 1e-9) {
        throw new QuotaExceededError(`quota exceeded: tenant ${tenant} may have ${wording[quota](limit)}; this sandbox would make it ${round(wanted)}`, {
          tenant,
          quota,
          limit,
          requested: round(wanted),
        });
      }
    }
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

const wording = {
  maxSandboxes: (n: number) => `at most ${n} live sandbox${n === 1 ? '' : 'es'}`,
  maxMemoryMiB: (n: number) => `at most ${n} MiB of memory across its live sandboxes`,
  maxCpus: (n: number) => `at most ${n} CPUs across its live sandboxes`,
};
