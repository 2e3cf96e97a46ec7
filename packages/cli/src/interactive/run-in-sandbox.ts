import { ApiClient, AttachedProcess, type Sandbox } from '@paddock/sdk';
import type { Connection } from '../connection/resolve-connection.js';

export interface RunRequest {
  cmd: string[];
  interactive?: boolean;
  tty?: boolean;
  user?: string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs a command the way `docker exec` would and returns the exit code to pass on. */
export async function runInSandbox(sbx: Sandbox, conn: Connection, req: RunRequest): Promise<number> {
  if (req.tty) return runOnTerminal(sbx, req);
  if (req.interactive) return runWithStdin(sbx, conn, req);
  const result = await sbx.commands.runAllowingFailure(req.cmd, {
    user: req.user,
    cwd: req.cwd,
    env: req.env,
    timeoutMs: req.timeoutMs,
    onStdout: (d) => process.stdout.write(d),
    onStderr: (d) => process.stderr.write(d),
  });
  if (result.oomKilled) process.stderr.write('paddock: the command was killed: out of memory\n');
  else if (result.timedOut) process.stderr.write('paddock: the command was killed: timeout\n');
  return result.exitCode;
}

/** -i without -t: local stdin streams to the command until it ends. */
async function runWithStdin(sbx: Sandbox, conn: Connection, req: RunRequest): Promise<number> {
  const handle = await sbx.commands.start(req.cmd, { user: req.user, cwd: req.cwd, env: req.env, timeoutMs: req.timeoutMs, openStdin: true });
  const attached = await AttachedProcess.open(new ApiClient(conn), `/v1/sandboxes/${sbx.id}/processes/${handle.pid}/attach`, {
    onStdout: (d) => process.stdout.write(d),
    onStderr: (d) => process.stderr.write(d),
  });
  const onData = (chunk: Buffer) => attached.write(chunk);
  const onEnd = () => attached.closeStdin();
  process.stdin.on('data', onData);
  process.stdin.once('end', onEnd);
  try {
    return (await attached.exited).exitCode;
  } finally {
    process.stdin.off('data', onData);
    process.stdin.off('end', onEnd);
    process.stdin.pause();
  }
}

/** -t: a pseudo-terminal; local keys go raw, the size follows the local window. */
async function runOnTerminal(sbx: Sandbox, req: RunRequest): Promise<number> {
  const stdin = process.stdin;
  const pty = await sbx.pty.create({
    cols: process.stdout.columns ?? 80,
    rows: process.stdout.rows ?? 24,
    cmd: req.cmd,
    user: req.user,
    cwd: req.cwd,
    env: req.env,
    onData: (d) => process.stdout.write(d),
  });
  const onResize = () => pty.resize({ cols: process.stdout.columns ?? 80, rows: process.stdout.rows ?? 24 });
  const onData = (chunk: Buffer) => pty.sendInput(chunk);
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onData);
  process.stdout.on('resize', onResize);
  try {
    return (await pty.wait()).exitCode;
  } finally {
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.off('data', onData);
    stdin.pause();
    process.stdout.off('resize', onResize);
  }
}
