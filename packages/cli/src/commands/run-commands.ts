import { parseDurationMs } from '@paddock/core/client';
import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import type { Connection } from '../connection/resolve-connection.js';
import { runInSandbox } from '../interactive/run-in-sandbox.js';
import { CliError } from '../output/cli-error.js';
import { collect, pairs, requireCommand, type SandboxFlags, sandboxOptions } from './options.js';

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  user?: string;
  workdir?: string;
  env?: string[];
  timeout?: string;
  detach?: boolean;
}

function addSandboxFlags(cmd: Command): Command {
  return cmd
    .option('-T, --template <name>', 'template to start from', 'base')
    .option('--memory <size>', 'memory limit, e.g. 256m, 1g')
    .option('--cpus <n>', 'CPU quota in cores, e.g. 0.5')
    .option('--pids <n>', 'maximum number of processes')
    .option('--disk <size>', 'size of the writable layer, e.g. 2g')
    .option('--timeout <duration>', 'lifetime of the sandbox, e.g. 30s, 10m')
    .option('-e, --env <KEY=VALUE>', 'environment variable (repeatable)', collect)
    .option('-l, --label <key=value>', 'label (repeatable)', collect);
}

export function registerRunCommands(program: Command, connection: () => Connection): void {
  addSandboxFlags(program.command('run').description('create a sandbox, run a command in it, then kill it'))
    .argument('<cmd...>', 'command and arguments (after --)')
    .option('-i, --interactive', 'keep stdin open and stream it to the command')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-u, --user <user>', 'run as this user (root, user, or a uid)')
    .option('-w, --workdir <dir>', 'working directory inside the sandbox')
    .option('--rm', 'accepted for Docker habits: sandboxes of run are always removed')
    .option('--keep', 'keep the sandbox after the command and print its id')
    .passThroughOptions()
    .action(async (cmd: string[], flags: SandboxFlags & ExecFlags & { keep?: boolean }) => {
      const conn = connection();
      const options = sandboxOptions(flags);
      const command = requireCommand(cmd);
      const sbx = await Sandbox.create({ ...conn, ...options, env: options.env }).catch((err: unknown) => {
        throw new CliError(`cannot create a sandbox: ${(err as Error).message}`, 125);
      });
      const cleanup = async () => {
        if (flags.keep) process.stderr.write(`${sbx.id}\n`);
        // The daemon finishes the teardown on its own; no need to wait for it.
        else await sbx.kill({ wait: false }).catch(() => {});
      };
      const onSignal = () => {
        void cleanup().finally(() => process.exit(130));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        process.exitCode = await runInSandbox(sbx, conn, {
          cmd: command,
          interactive: flags.interactive,
          tty: flags.tty,
          user: flags.user,
          cwd: flags.workdir,
          timeoutMs: options.timeoutMs,
        });
      } finally {
        await cleanup();
      }
    });

  program.command('create').description('create a sandbox and print its id').option('--json', 'print the whole sandbox as JSON');
  addSandboxFlags(program.commands.at(-1) as Command).action(async (flags: SandboxFlags & { json?: boolean }) => {
    const sbx = await Sandbox.create({ ...connection(), ...sandboxOptions(flags) }).catch((err: unknown) => {
      throw new CliError((err as Error).message, 125);
    });
    process.stdout.write(flags.json ? `${JSON.stringify(sbx.snapshot, null, 2)}\n` : `${sbx.id}\n`);
  });

  program
    .command('exec')
    .description('run a command in a running sandbox')
    .argument('<id>', 'sandbox id')
    .argument('<cmd...>', 'command and arguments (after --)')
    .option('-i, --interactive', 'keep stdin open and stream it to the command')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-d, --detach', 'run in the background and print the process id')
    .option('-u, --user <user>', 'run as this user (root, user, or a uid)')
    .option('-w, --workdir <dir>', 'working directory inside the sandbox')
    .option('-e, --env <KEY=VALUE>', 'environment variable (repeatable)', collect)
    .option('--timeout <duration>', 'kill the command after this long')
    .passThroughOptions()
    .action(async (id: string, cmd: string[], flags: ExecFlags) => {
      const conn = connection();
      const command = requireCommand(cmd);
      const env = pairs(flags.env, '--env');
      const timeoutMs = flags.timeout === undefined ? undefined : parseDurationMs(flags.timeout, '--timeout');
      const sbx = await Sandbox.connect(id, conn);
      if (flags.detach) {
        const handle = await sbx.commands.start(command, { user: flags.user, cwd: flags.workdir, env, timeoutMs });
        process.stdout.write(`${handle.pid}\n`);
        return;
      }
      process.exitCode = await runInSandbox(sbx, conn, {
        cmd: command,
        interactive: flags.interactive,
        tty: flags.tty,
        user: flags.user,
        cwd: flags.workdir,
        env,
        timeoutMs,
      });
    });

  program
    .command('shell')
    .description('open an interactive shell (bash -l on a terminal) in a sandbox')
    .argument('<id>', 'sandbox id')
    .option('-u, --user <user>', 'run as this user (root, user, or a uid)')
    .action(async (id: string, flags: { user?: string }) => {
      const conn = connection();
      const sbx = await Sandbox.connect(id, conn);
      process.exitCode = await runInSandbox(sbx, conn, { cmd: ['/bin/bash', '-l'], tty: true, user: flags.user });
    });
}
