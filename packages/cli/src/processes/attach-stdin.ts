import type { Connection } from '@paddock/sdk';
import { ApiClient, AttachedProcess, apiCall, type Sandbox } from '@paddock/sdk';
import { approvalWaitNotice } from '../approvals/approval-wait-notice.js';
import { onCleanup } from '../lifecycle/cleanup.js';
import type { CommandRequest } from './command-request.js';
import { exitStatus } from './exit-status.js';

/** -i without -t: local stdin streams to the command, its end closing the command's stdin. */
export async function attachStdin(sbx: Sandbox, conn: Connection, req: CommandRequest): Promise<number> {
  const stopNotice = approvalWaitNotice(req.approvalWaitSeconds);
  const handle = await sbx.commands
    .start(req.cmd, {
      user: req.user,
      cwd: req.cwd,
      env: req.env,
      timeoutMs: req.timeoutMs,
      openStdin: true,
      approvalWaitSeconds: req.approvalWaitSeconds,
      approvalId: req.approvalId,
    })
    .finally(stopNotice);
  // Interrupted, the CLI must not leave the command behind, waiting for input that will never come.
  const unregister = onCleanup(() => handle.kill());
  try {
    const attached = await AttachedProcess.open(
      new ApiClient(conn),
      apiCall('GET /v1/sandboxes/{id}/processes/{pid}/attach', { id: sbx.id, pid: handle.pid }),
      {
        onStdout: (data) => process.stdout.write(data),
        onStderr: (data) => process.stderr.write(data),
      },
    );
    const stopForwarding = forwardStdin(attached);
    try {
      return exitStatus(await attached.exited, req.deadlineAt, req.timeoutMs);
    } finally {
      stopForwarding();
    }
  } finally {
    unregister();
  }
}

function forwardStdin(attached: AttachedProcess): () => void {
  const stdin = process.stdin;
  const onData = (chunk: Buffer) => attached.write(chunk);
  const onEnd = () => attached.closeStdin();
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  return () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
  };
}
