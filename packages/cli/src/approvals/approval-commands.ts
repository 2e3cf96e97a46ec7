import type { Command } from 'commander';
import { Option } from '../program/commander.js';
import { lazyAction } from '../program/lazy-action.js';

const states = ['pending', 'approved', 'denied', 'expired', 'used', 'cancelled', 'all'];

/** approvals [ls], approve, deny, cancel, watch. */
export function registerApprovalCommands(program: Command): void {
  const approvals = program.command('approvals').description('requests a policy asked a human about: list, approve, deny, watch (operator)');

  approvals
    .command('ls', { isDefault: true })
    .description('list approvals, newest first (pending ones unless --state)')
    .addOption(new Option('--state <state>', 'only approvals in this state').choices(states))
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./list-approvals.js')).listApprovals));

  approvals
    .command('approve')
    .description('let the request run, once; prints the id')
    .argument('<id>', 'approval id, ap_…')
    .requiredOption('--reason <text>', 'why, for the audit log (required)')
    .option('--self', 'approve a request of your own (an install with one person; audited as approval.self_approve)')
    .action(lazyAction(async () => (await import('./decide-approval.js')).decideApproval('approve')));

  approvals
    .command('deny')
    .description('refuse the request; prints the id')
    .argument('<id>', 'approval id, ap_…')
    .requiredOption('--reason <text>', 'why, for the audit log (required)')
    .action(lazyAction(async () => (await import('./decide-approval.js')).decideApproval('deny')));

  approvals
    .command('cancel')
    .description('withdraw a pending request this token made; prints the id')
    .argument('<id>', 'approval id, ap_…')
    .option('--reason <text>', 'why, for the audit log')
    .action(lazyAction(async () => (await import('./decide-approval.js')).cancelApproval));

  approvals
    .command('watch')
    .description('print the pending approvals, then one line for each new or changed one until Ctrl-C')
    .addOption(new Option('--state <state>', 'only approvals in this state').choices(states))
    .action(lazyAction(async () => (await import('./watch-approvals.js')).watchApprovals));
}
