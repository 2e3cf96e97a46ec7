import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** registry login, registry logout, registry ls. */
export function registerRegistryCommands(program: Command): void {
  const registry = program
    .command('registry')
    .description("logins to image registries, for template build --from-image and a Dockerfile's FROM (kept sealed by the daemon)");
  registry
    .command('login')
    .description('store a login to a registry; the password is read from stdin, never from the command line')
    .argument('<host>', 'the registry as image references name it: host or host:port')
    .requiredOption('-u, --username <name>', 'user name')
    .option('--shared', "an admin's login that every tenant's pulls use")
    .action(lazyAction(async () => (await import('./registry-actions.js')).login));
  registry
    .command('logout')
    .description('remove a registry login')
    .argument('<host>', 'the registry')
    .option('--shared', "the admin's shared login")
    .action(lazyAction(async () => (await import('./registry-actions.js')).logout));
  registry
    .command('ls')
    .description('registry logins: hosts and user names (never passwords)')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./registry-actions.js')).listLogins));
}
