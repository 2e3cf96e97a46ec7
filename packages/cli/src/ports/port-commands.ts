import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** port: a sandbox's ports, their URLs and public links. */
export function registerPortCommands(program: Command): void {
  program
    .command('port')
    .description("print the URLs of a sandbox's port (or, without one, what listens and the public links); --public makes a link anyone can open")
    .argument('<sandbox>', 'sandbox id')
    .argument('[port]', 'TCP port inside the sandbox')
    .option('--public', 'make a public link: anyone holding its URL opens the port, no token needed')
    .option('--ttl <duration>', 'how long the public link works (30s, 10m, 1h, 7d; default 1h)')
    .option('--revoke <link>', 'revoke a public link by its id (lnk-…): it opens nothing from then on')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./port-actions.js')).portCommand));
  program
    .command('port-forward')
    .description('carry raw TCP from local ports to ports inside a sandbox, like kubectl port-forward; runs until interrupted')
    .argument('<sandbox>', 'sandbox id')
    .argument('<ports...>', 'LOCAL:REMOTE, REMOTE (the same port here) or :REMOTE (a free local port)')
    .option('--address <address>', 'local address to listen on', '127.0.0.1')
    .action(lazyAction(async () => (await import('./port-forward-action.js')).portForward));
}
