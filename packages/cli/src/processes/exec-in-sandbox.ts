import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError } from '../errors/cli-error.js';
import { parseOptionalDuration } from '../options/parse-duration.js';
import { parseEnv } from '../options/parse-env.js';
import { requireCommand } from '../options/require-command.js';
import { printLines } from '../output/print-lines.js';
import type { CommandRequest } from './command-request.js';
import type { ExecFlags } from './exec-flags.js';
import { runCommand } from './run-command.js';

export interface ExecCommandFlags extends ExecFlags {
  env?: string[];
  timeout?: string;
  detach?: boolean;
}

/** `paddock exec`: a command in a running sandbox; exits with its code, or with -d prints its pid. */
export async function execInSandbox(id: string, args: string[], flags: ExecCommandFlags, command: Command): Promise<void> {
  const req = commandRequest(args, flags);
  if (flags.detach && (req.interactive || req.tty)) throw new CliError('--detach cannot be combined with --interactive or --tty');
  const conn = connectionFor(command);
  const sbx = await Sandbox.connect(id, conn);
  if (flags.detach) {
    const handle = await sbx.commands.start(req.cmd, { user: req.user, cwd: req.cwd, env: req.env, timeoutMs: req.timeoutMs });
    return printLines([String(handle.pid)]);
  }
  process.exitCode = await runCommand(sbx, conn, req);
}

function commandRequest(args: string[], flags: ExecCommandFlags): CommandRequest {
  const timeoutMs = parseOptionalDuration(flags.timeout, '--timeout');
  return {
    cmd: requireCommand(args),
    interactive: flags.interactive,
    tty: flags.tty,
    user: flags.user,
    cwd: flags.workdir,
    env: parseEnv(flags.env),
    timeoutMs,
    deadlineAt: timeoutMs ? Date.now() + timeoutMs : undefined,
  };
}
