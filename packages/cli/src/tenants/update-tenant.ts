import { Tenants } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { printLines } from '../output/print-lines.js';
import { parseQuotas } from './parse-quotas.js';
import type { QuotaFlags } from './quota-flags.js';

/** `paddock tenant update`: changes only the quotas given; prints the name. */
export async function updateTenant(name: string, flags: QuotaFlags, command: Command): Promise<void> {
  const quotas = parseQuotas(flags);
  if (Object.keys(quotas).length === 0) {
    throw new UsageError(
      'nothing to change: give --max-sandboxes, --max-memory, --max-cpus, --max-snapshots, --max-snapshot-size, --max-volumes or --max-volume-size',
    );
  }
  const updated = await Tenants.update(name, quotas, connectionFor(command));
  printLines([updated.name]);
}
