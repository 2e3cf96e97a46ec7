import type { Sandbox } from '@paddock/sdk';
import { approvalWaitNotice } from '../approvals/approval-wait-notice.js';
import type { CommandRequest } from './command-request.js';
import { exitStatus } from './exit-status.js';

/** Runs a command with no input, its output streaming to ours byte for byte; returns the code to exit with. */
export async function streamCommand(sbx: Sandbox, req: CommandRequest): Promise<number> {
  const stopNotice = approvalWaitNotice(req.approvalWaitSeconds);
  try {
    const result = await sbx.commands.runAllowingFailure(req.cmd, {
      user: req.user,
      cwd: req.cwd,
      env: req.env,
      timeoutMs: req.timeoutMs,
      approvalWaitSeconds: req.approvalWaitSeconds,
      approvalId: req.approvalId,
      onStart: stopNotice,
      // Bytes, not text: binary output (`exec … cat file.tgz > x`) must arrive intact.
      onStdoutBytes: (data) => process.stdout.write(data),
      onStderrBytes: (data) => process.stderr.write(data),
    });
    return exitStatus(result, req.deadlineAt, req.timeoutMs);
  } finally {
    stopNotice();
  }
}
