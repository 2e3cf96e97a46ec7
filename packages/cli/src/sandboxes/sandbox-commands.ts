import type { Command } from 'commander';
import { collect } from '../options/collect.js';
import { addExecFlags } from '../processes/exec-flags.js';
import { Option } from '../program/commander.js';
import { lazyAction } from '../program/lazy-action.js';
import { addSandboxFlags } from './sandbox-flags.js';

/** run, create, ls, inspect, kill, pause, resume, snapshot, fork, checkpoint, rollback, timeout. */
export function registerSandboxCommands(program: Command): void {
  addExecFlags(addSandboxFlags(program.command('run')))
    .description('create a sandbox, run a command in it and kill the sandbox; exits with the command’s code')
    .argument('[cmd...]', 'command and its arguments, after --')
    .option('--rm', 'accepted for docker habits: run always removes its sandbox')
    .option('--keep', 'keep the sandbox afterwards and print its id on stderr')
    .option('-p, --publish <port>', 'print the URL of this port (on stderr) once something listens on it; repeatable', collect)
    .passThroughOptions()
    .action(lazyAction(async () => (await import('./run-sandbox.js')).runSandbox));

  addSandboxFlags(program.command('create'))
    .description('create a sandbox and print its id')
    .option('--json', 'print the whole sandbox as JSON')
    .action(lazyAction(async () => (await import('./create-sandbox.js')).createSandbox));

  program
    .command('ls')
    .description('list sandboxes (running and paused unless --all or --state)')
    .option('-a, --all', 'include killed sandboxes')
    .addOption(new Option('--state <state>', 'only sandboxes in this state').choices(['running', 'paused', 'killed', 'all']))
    .option('-l, --label <key=value>', 'only sandboxes with this label (repeatable)', collect)
    .option('-q, --quiet', 'print ids only')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./list-sandboxes.js')).listSandboxes));

  program
    .command('inspect')
    .description('show everything known about a sandbox, as JSON')
    .argument('<id>', 'sandbox id')
    .option('--json', 'print JSON (the default)')
    .action(lazyAction(async () => (await import('./inspect-sandbox.js')).inspectSandbox));

  program
    .command('kill')
    .description('kill sandboxes and remove everything they had; prints the killed ids')
    .argument('[ids...]', 'sandbox ids')
    .option('--all', 'kill every sandbox')
    .action(lazyAction(async () => (await import('./kill-sandboxes.js')).killSandboxes));

  for (const [name, what] of [
    ['pause', 'freeze every process of sandboxes (no CPU; memory and files kept; the timeout clock stops)'],
    ['resume', 'thaw paused sandboxes'],
  ] as const) {
    program
      .command(name)
      .description(what)
      .argument('<ids...>', 'sandbox ids')
      .action(
        lazyAction(async () =>
          name === 'pause' ? (await import('./snapshot-sandbox.js')).pauseSandboxes : (await import('./snapshot-sandbox.js')).resumeSandboxes,
        ),
      );
  }

  program
    .command('snapshot')
    .description('keep a sandbox’s files as an immutable template (the sandbox goes on); prints the template name')
    .argument('<id>', 'sandbox id')
    .requiredOption('--name <template>', 'name of the template the snapshot becomes')
    .action(lazyAction(async () => (await import('./snapshot-sandbox.js')).snapshotSandbox));

  program
    .command('fork')
    .description('start a new sandbox with a sandbox’s files (the original is untouched); prints its id')
    .argument('<id>', 'sandbox id')
    .option('--timeout <duration>', 'lifetime of the fork, e.g. 10m')
    .action(lazyAction(async () => (await import('./snapshot-sandbox.js')).forkSandbox));

  program
    .command('checkpoint')
    .description('record a sandbox’s files to roll back to later; prints the checkpoint id')
    .argument('<id>', 'sandbox id')
    .action(lazyAction(async () => (await import('./snapshot-sandbox.js')).checkpointSandbox));

  program
    .command('rollback')
    .description('put a sandbox’s files back exactly as at a checkpoint (its processes restart)')
    .argument('<id>', 'sandbox id')
    .argument('<checkpoint>', 'checkpoint id (cp_…)')
    .action(lazyAction(async () => (await import('./snapshot-sandbox.js')).rollbackSandbox));

  program
    .command('timeout')
    .description('set the time left before a sandbox is killed, counted from now')
    .argument('<id>', 'sandbox id')
    .argument('<duration>', 'e.g. 30m, 2h')
    .action(lazyAction(async () => (await import('./set-sandbox-timeout.js')).setSandboxTimeout));
}
