import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** `paddock check`: the security report of this deployment (admin). */
export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description(
      'security report of this deployment (admin): host, runtimes, settings, policies; --probes runs the attack catalogue in new sandboxes of each tier',
    )
    .option('--probes', 'also run the attack probes live, in new sandboxes of every tier (a few minutes)')
    .option('--tier <tier...>', 'tiers to probe (default: container gvisor)')
    .option('--probe <id...>', 'run only these probes (ids as docs/check.md lists them, e.g. A7 C3)')
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'also write the report as a self-contained HTML file')
    .addHelpText('after', '\nExit code: 0 when nothing failed and no probe broke, 1 otherwise.')
    .action(lazyAction(() => import('./run-check.js').then((m) => m.runCheck)));
}
