import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

export function registerVersionCommand(program: Command): void {
  program
    .command('version')
    .description('print the CLI version and, when reachable, the daemon’s')
    .action(lazyAction(async () => (await import('./show-version.js')).showVersion));
}
