import type { Command } from 'commander';
import { collect } from '../options/collect.js';
import { lazyAction } from '../program/lazy-action.js';

/** secret set, secret ls, secret rm. */
export function registerSecretCommands(program: Command): void {
  const secret = program.command('secret').description('secrets sandboxes use without seeing them (the egress proxy adds them to requests to their hosts)');
  secret
    .command('set')
    .description('store a secret for these hosts; the value is read from stdin or --from-file, never from the command line')
    .argument('<name>', 'its name, also the variable sandboxes see (holding a placeholder)')
    .requiredOption('--host <host>', 'a host (or *.suffix) its value may be sent to (repeatable)', collect)
    .option('--from-file <path>', 'read the value from this file')
    .action(lazyAction(async () => (await import('./secret-actions.js')).setSecret));
  secret
    .command('ls')
    .description('secrets: names and hosts (never values)')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./secret-actions.js')).listSecrets));
  secret
    .command('rm')
    .description('remove secrets')
    .argument('<names...>', 'secret names')
    .action(lazyAction(async () => (await import('./secret-actions.js')).removeSecrets));
}
