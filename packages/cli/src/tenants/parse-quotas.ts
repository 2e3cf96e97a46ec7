import { parseSizeMiB } from '@paddock/core/client';
import type { TenantUpdate } from '@paddock/sdk';
import { UsageError } from '../errors/cli-error.js';
import type { QuotaFlags } from './quota-flags.js';

/** Quota flags as the API wants them: only those given, null for "none"; bad values fail before any request. */
export function parseQuotas(flags: QuotaFlags): TenantUpdate {
  const quotas: TenantUpdate = {};
  if (flags.maxSandboxes !== undefined) quotas.maxSandboxes = quota(flags.maxSandboxes, (t) => count(t, '--max-sandboxes'));
  if (flags.maxMemory !== undefined) quotas.maxMemoryMiB = quota(flags.maxMemory, (t) => parseSizeMiB(t, '--max-memory'));
  if (flags.maxCpus !== undefined) quotas.maxCpus = quota(flags.maxCpus, (t) => amount(t, '--max-cpus'));
  if (flags.maxSnapshots !== undefined) quotas.maxSnapshots = quota(flags.maxSnapshots, (t) => count(t, '--max-snapshots'));
  if (flags.maxSnapshotSize !== undefined) quotas.maxSnapshotMiB = quota(flags.maxSnapshotSize, (t) => parseSizeMiB(t, '--max-snapshot-size'));
  if (flags.maxVolumes !== undefined) quotas.maxVolumes = quota(flags.maxVolumes, (t) => count(t, '--max-volumes'));
  if (flags.maxVolumeSize !== undefined) quotas.maxVolumeMiB = quota(flags.maxVolumeSize, (t) => parseSizeMiB(t, '--max-volume-size'));
  return quotas;
}

function quota(text: string, parse: (text: string) => number): number | null {
  return text.trim().toLowerCase() === 'none' ? null : parse(text);
}

// Zero is a real quota (a tenant frozen at nothing), so these accept it, unlike the sandbox limits.
function amount(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag}: "${text}" is not a number of 0 or more, nor "none"`);
  return n;
}

function count(text: string, flag: string): number {
  const n = amount(text, flag);
  if (!Number.isInteger(n)) throw new UsageError(`${flag}: "${text}" is not a whole number`);
  return n;
}
