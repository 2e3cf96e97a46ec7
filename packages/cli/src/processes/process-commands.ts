import type { Command } from 'commander';
import { collect } from '../options/collect.js';
import { lazyAction } from '../program/lazy-action.js';
import { addExecFlags } from './exec-flags.js';

/** exec, shell, takeover, handback, ps, logs, wait. */
export function registerProcessCommands(program: Command): void {
  addExecFlags(program.command('exec'))
    .description('run a command in a running sandbox; exits with the command’s code')
    .argument('<id>', 'sandbox id')
    .argument('[cmd...]', 'command and its arguments, after --')
    .option('-d, --detach', 'run in the background and print the process id (see logs, ps)')
    .option('-e, --env <KEY=VALUE>', 'environment variable (repeatable)', collect)
    .option('--timeout <duration>', 'kill the command after this long (at most 24h), e.g. 30s')
    .option('--approval <id>', 'run with this approved approval (ap_…), given for this very command')
    .passThroughOptions()
    .action(lazyAction(async () => (await import('./exec-in-sandbox.js')).execInSandbox));

  program
    .command('shell')
    .description('open a login shell (bash -l) on a terminal in a sandbox')
    .argument('<id>', 'sandbox id')
    .option('-u, --user <user>', 'run as this user: root, user, or a uid')
    .option('-w, --workdir <dir>', 'working directory inside the sandbox')
    .action(lazyAction(async () => (await import('./open-shell.js')).openShell));

  program
    .command('takeover')
    .description('take a sandbox over from its agent: a recorded terminal (bash -l) only you type into; exiting it, or handback, gives it back')
    .argument('<id>', 'sandbox id')
    .action(lazyAction(async () => (await import('./take-over.js')).takeOver));

  program
    .command('handback')
    .description('hand a taken-over sandbox back to its agent: its terminal is killed; prints the recording and its SHA-256')
    .argument('<id>', 'sandbox id')
    .action(lazyAction(async () => (await import('./take-over.js')).handBack));

  program
    .command('ps')
    .description('list the processes started in a sandbox through Paddock')
    .argument('<id>', 'sandbox id')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./list-processes.js')).listProcesses));

  program
    .command('logs')
    .description('print the output of a background command (the latest one unless PID is given)')
    .argument('<id>', 'sandbox id')
    .argument('[pid]', 'process id, from exec -d or ps')
    .option('-f, --follow', 'keep printing until the command exits')
    .action(lazyAction(async () => (await import('./show-logs.js')).showLogs));

  program
    .command('wait')
    .description('wait for a background command to exit (the latest one unless PID is given) and print its exit code')
    .argument('<id>', 'sandbox id')
    .argument('[pid]', 'process id, from exec -d or ps')
    .option('--timeout <duration>', 'stop waiting after this long, e.g. 30s; the command goes on and wait exits with 124')
    .action(lazyAction(async () => (await import('./wait-process.js')).waitProcess));
}
