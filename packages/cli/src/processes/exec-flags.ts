import type { Command } from 'commander';

export interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  user?: string;
  workdir?: string;
  waitApproval?: string;
}

/** How a command runs: the options `run` and `exec` share. */
export function addExecFlags(command: Command): Command {
  return command
    .option('-i, --interactive', 'stream local stdin to the command')
    .option('-t, --tty', 'run on a pseudo-terminal (raw keys, window size followed)')
    .option('-u, --user <user>', 'run as this user: root, user, or a uid')
    .option('-w, --workdir <dir>', 'working directory inside the sandbox')
    .option('--wait-approval <duration>', 'when a policy asks a human about the command, wait this long (at most 10m) for the answer, e.g. 2m');
}

/** A command request's fields, as the flags of run and exec set them. */
export const execFieldFlags: Record<string, string> = {
  cmd: 'the command',
  env: '--env',
  cwd: '--workdir',
  user: '--user',
  timeoutMs: '--timeout',
};
