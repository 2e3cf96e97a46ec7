import { commandTimeoutBounds } from '@paddock/core/client';
import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { withApprovalHint } from '../approvals/approval-hint.js';
import { parseApprovalWait } from '../approvals/parse-approval-wait.js';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { nameFlags } from '../errors/name-flags.js';
import { parseOptionalDuration } from '../options/parse-duration.js';
import { parseEnv } from '../options/parse-env.js';
import { requireCommand } from '../options/require-command.js';
import { printLines } from '../output/print-lines.js';
import type { CommandRequest } from './command-request.js';
import { type ExecFlags, execFieldFlags } from './exec-flags.js';
import { runCommand } from './run-command.js';

export interface ExecCommandFlags extends ExecFlags {
  env?: string[];
  timeout?: string;
  detach?: boolean;
  approval?: string;
}

/** `paddock exec`: a command in a running sandbox; exits with its code, or with -d prints its pid. */
export async function execInSandbox(id: string, args: string[], flags: ExecCommandFlags, command: Command): Promise<void> {
  const req = commandRequest(args, flags);
  if (flags.detach && (req.interactive || req.tty)) throw new UsageError('--detach cannot be combined with --interactive or --tty');
  const conn = connectionFor(command);
  const sbx = await Sandbox.connect(id, conn);
  try {
    if (flags.detach) return printLines([String((await startDetached(sbx, req)).pid)]);
    process.exitCode = await runCommand(sbx, conn, req);
  } catch (err) {
    throw withApprovalHint(
      nameFlags(err, execFieldFlags),
      (approvalId) => `approve with: paddock approvals approve ${approvalId} --reason …, then repeat with --approval ${approvalId}`,
    );
  }
}

function startDetached(sbx: Sandbox, req: CommandRequest) {
  const { user, cwd, env, timeoutMs, approvalWaitSeconds, approvalId } = req;
  return sbx.commands.start(req.cmd, { user, cwd, env, timeoutMs, approvalWaitSeconds, approvalId });
}

function commandRequest(args: string[], flags: ExecCommandFlags): CommandRequest {
  const timeoutMs = parseOptionalDuration(flags.timeout, '--timeout', commandTimeoutBounds);
  return {
    cmd: requireCommand(args),
    interactive: flags.interactive,
    tty: flags.tty,
    user: flags.user,
    cwd: flags.workdir,
    env: parseEnv(flags.env),
    timeoutMs,
    deadlineAt: timeoutMs ? Date.now() + timeoutMs : undefined,
    approvalWaitSeconds: parseApprovalWait(flags.waitApproval),
    approvalId: flags.approval,
  };
}
