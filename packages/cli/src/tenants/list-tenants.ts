import { type TenantInfo, Tenants } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';

/** `paddock tenant ls`: each quota as usage/limit, "-" where there is no limit. */
export async function listTenants(flags: { json?: boolean }, command: Command): Promise<void> {
  const tenants = await Tenants.list(connectionFor(command));
  if (flags.json) return printJson(tenants);
  process.stdout.write(formatTable(['NAME', 'SANDBOXES', 'MEMORY', 'CPUS'], tenants.map(tenantRow)));
}

function tenantRow(t: TenantInfo): string[] {
  return [
    t.name,
    usage(t.usage.sandboxes, t.maxSandboxes, String),
    usage(t.usage.memoryMiB, t.maxMemoryMiB, formatMiB),
    usage(t.usage.cpus, t.maxCpus, formatAmount),
  ];
}

function usage(used: number, limit: number | null, format: (n: number) => string): string {
  return `${format(used)}/${limit === null ? '-' : format(limit)}`;
}

function formatMiB(mib: number): string {
  return mib >= 1024 ? `${formatAmount(mib / 1024)}GiB` : `${mib}MiB`;
}

// Quotas of CPUs are fractional (0.5 cores); two decimals are as precise as anyone sets them.
function formatAmount(n: number): string {
  return String(Number(n.toFixed(2)));
}
