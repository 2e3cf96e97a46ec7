import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** pool set, pool ls, pool rm. */
export function registerPoolCommands(program: Command): void {
  const pool = program.command('pool').description('warm pools: sandboxes made in advance, served to creates that match');
  pool
    .command('set')
    .description('keep SIZE ready sandboxes of a template (with these limits and tier); size 0 empties the pool')
    .argument('<template>', 'template name')
    .requiredOption('--size <n>', 'how many ready sandboxes to keep')
    .option('--tier <tier>', 'container or gvisor', 'container')
    .option('--memory <size>', 'memory limit of its sandboxes, e.g. 512m')
    .option('--cpus <n>', 'CPU quota of its sandboxes')
    .option('--pids <n>', 'process limit of its sandboxes')
    .option('--disk <size>', 'writable layer size of its sandboxes')
    .option('--json', 'print the pool as JSON')
    .action(lazyAction(async () => (await import('./pool-actions.js')).setPool));
  pool
    .command('ls')
    .description('pools, with ready sandboxes, hits, misses and refill time')
    .option('-q, --quiet', 'print ids only')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./pool-actions.js')).listPools));
  pool
    .command('rm')
    .description('remove pools and kill the sandboxes they kept')
    .argument('[ids...]', 'pool ids')
    .option('--all', 'every pool')
    .action(lazyAction(async () => (await import('./pool-actions.js')).removePools));
}
