import { Tenants } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { printLines } from '../output/print-lines.js';
import { parseQuotas } from './parse-quotas.js';
import type { QuotaFlags } from './quota-flags.js';

/** `paddock tenant create`: prints the name, as docker prints what it made. */
export async function createTenant(name: string, flags: QuotaFlags, command: Command): Promise<void> {
  const quotas = parseQuotas(flags);
  const created = await Tenants.create({ name, ...quotas }, connectionFor(command));
  printLines([created.name]);
}
