import type { Command } from 'commander';
import { Option } from '../program/commander.js';
import { lazyAction } from '../program/lazy-action.js';

const states = ['pending', 'approved', 'denied', 'expired', 'used', 'all'];

/** approvals [ls], approve, deny, watch. */
export function registerApprovalCommands(program: Command): void {
  const approvals = program.command('approvals').description('requests a policy asked a human about: list, approve, deny, watch (operator)');

  approvals
    .command('ls', { isDefault: true })
    .description('list approvals, newest first (pending ones unless --state)')
    .addOption(new Option('--state <state>', 'only approvals in this state').choices(states))
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./list-approvals.js')).listApprovals));

  for (const verdict of ['approve', 'deny'] as const) {
    approvals
      .command(verdict)
      .description(verdict === 'approve' ? 'let the request run, once; prints the id' : 'refuse the request; prints the id')
      .argument('<id>', 'approval id, ap_…')
      .requiredOption('--reason <text>', 'why, for the audit log (required)')
      .action(lazyAction(async () => (await import('./decide-approval.js')).decideApproval(verdict)));
  }

  approvals
    .command('watch')
    .description('print the pending approvals, then one line for each new or changed one until Ctrl-C')
    .addOption(new Option('--state <state>', 'only approvals in this state').choices(states))
    .action(lazyAction(async () => (await import('./watch-approvals.js')).watchApprovals));
}
