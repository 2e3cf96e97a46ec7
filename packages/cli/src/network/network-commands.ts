import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** net allow, net deny, net show. */
export function registerNetworkCommands(program: Command): void {
  const net = program.command('net').description("a sandbox's egress: the hosts it may reach, changeable while it runs");
  net
    .command('allow')
    .description('let the sandbox reach these hosts (new connections, no restart)')
    .argument('<sandbox>', 'sandbox id')
    .argument('<hosts...>', 'pypi.org, *.pythonhosted.org, 10.0.0.5, host:port …')
    .option('--json', 'print the rules as JSON')
    .action(lazyAction(async () => (await import('./network-actions.js')).allowHosts));
  net
    .command('deny')
    .description('stop the sandbox reaching these hosts (removed from the allowlist and denied even under a wildcard)')
    .argument('<sandbox>', 'sandbox id')
    .argument('<hosts...>', 'hosts or patterns')
    .option('--json', 'print the rules as JSON')
    .action(lazyAction(async () => (await import('./network-actions.js')).denyHosts));
  net
    .command('show')
    .description("the sandbox's rules, secrets and recent connections (allowed and refused)")
    .argument('<sandbox>', 'sandbox id')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./network-actions.js')).showNetwork));
}
