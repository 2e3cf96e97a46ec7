import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';
import { addQuotaFlags } from './quota-flags.js';

/** tenant create, ls, inspect, update, rm. */
export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('create, list, change and remove tenants and their quotas (admin)');

  addQuotaFlags(tenant.command('create'))
    .description('create a tenant and print its name')
    .argument('<name>', 'lowercase letters, digits and "-"')
    .action(lazyAction(async () => (await import('./create-tenant.js')).createTenant));

  tenant
    .command('ls')
    .description('list tenants with what they use of each quota')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./list-tenants.js')).listTenants));

  tenant
    .command('inspect')
    .description('show a tenant, as JSON')
    .argument('<name>', 'tenant name')
    .option('--json', 'print JSON (the default)')
    .action(lazyAction(async () => (await import('./inspect-tenant.js')).inspectTenant));

  addQuotaFlags(tenant.command('update'))
    .description('change the quotas given ("none" removes one) and print the name')
    .argument('<name>', 'tenant name')
    .action(lazyAction(async () => (await import('./update-tenant.js')).updateTenant));

  tenant
    .command('rm')
    .description('remove tenants that have no live sandboxes')
    .argument('<names...>', 'tenant names')
    .action(lazyAction(async () => (await import('./remove-tenants.js')).removeTenants));
}
