import { Tenants } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { printJson } from '../output/print-json.js';

/** `paddock tenant inspect`: the tenant, quotas and usage, as JSON. */
export async function inspectTenant(name: string, _flags: { json?: boolean }, command: Command): Promise<void> {
  printJson(await Tenants.get(name, connectionFor(command)));
}
