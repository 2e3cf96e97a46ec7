import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** `paddock stats [ID…]`: live resource use, like `docker stats`. */
export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description('live CPU, memory, network and pids of sandboxes (all running and paused ones unless ids are given), like docker stats')
    .argument('[ids...]', 'sandbox ids')
    .option('--no-stream', 'print the current readings once and exit')
    .option('--json', 'print JSON: an array once with --no-stream, else one line per sampling tick')
    .action(lazyAction(async () => (await import('./show-stats.js')).showStats));
}
