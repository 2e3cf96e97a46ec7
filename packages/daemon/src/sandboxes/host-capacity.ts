import { statfsSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { HostCapacityError, type Limits } from '@paddock/core';

/** What the host has for sandboxes: its memory, its CPUs and the state folder's file system. */
export interface HostTotals {
  memoryMiB: number;
  cpus: number;
  /** A sandbox's writable layer is kept there when it is snapshotted or checkpointed. */
  diskMiB: number;
}

const mib = 1024 * 1024;

export function measureHost(stateDir: string): HostTotals {
  const fs = statfsSync(stateDir);
  return { memoryMiB: Math.floor(totalmem() / mib), cpus: availableParallelism(), diskMiB: Math.floor((fs.blocks * fs.bsize) / mib) };
}

const checked = [
  { field: 'memoryMiB', what: 'memory', unit: 'MiB' },
  { field: 'cpus', what: 'CPUs', unit: 'CPUs' },
  { field: 'diskMiB', what: 'disk', unit: 'MiB' },
] as const;

/**
 * Refuses a sandbox whose limits the host could never meet: a limit above
 * what the host has is no limit, and a typo (64g for 64m) should be told, not
 * obeyed. An operator who means it allows a ratio above 1 (--overcommit).
 */
export class HostCapacity {
  constructor(
    private readonly totals: HostTotals,
    private readonly overcommit: number,
  ) {}

  check(limits: Limits): void {
    for (const { field, what, unit } of checked) {
      const allowed = this.totals[field] * this.overcommit;
      if (limits[field] <= allowed) continue;
      throw new HostCapacityError(
        `limits.${field}: ${limits[field]} ${unit} is more ${what} than this host has (${this.totals[field]} ${unit}` +
          `${this.overcommit === 1 ? '' : `, ${this.overcommit}× with the operator's overcommit`}); an operator can allow more with --overcommit`,
        { field, requested: limits[field], host: this.totals[field], overcommit: this.overcommit },
      );
    }
  }
}
