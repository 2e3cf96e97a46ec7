import type { PtyHandle, Sandbox } from '@paddock/sdk';
import { onCleanup } from '../lifecycle/cleanup.js';
import type { CommandRequest } from './command-request.js';
import { exitStatus } from './exit-status.js';

/** -t: the command runs on a pseudo-terminal that our terminal drives: raw keys in, window size followed. */
export async function attachTerminal(sbx: Sandbox, req: CommandRequest): Promise<number> {
  const pty = await sbx.pty.create({
    ...terminalSize(),
    cmd: req.cmd,
    user: req.user,
    cwd: req.cwd,
    env: req.env,
    onData: (data) => process.stdout.write(data),
  });
  const release = takeTerminal(pty);
  const unregister = onCleanup(async () => {
    release();
    await sbx.commands.kill(pty.pid);
  });
  // The terminal API has no command timeout of its own, so the CLI keeps the deadline.
  const timer = req.timeoutMs ? setTimeout(() => pty.kill(), req.timeoutMs) : undefined;
  try {
    return exitStatus(await pty.wait(), req.deadlineAt, req.timeoutMs);
  } finally {
    clearTimeout(timer);
    release();
    unregister();
  }
}

export function terminalSize(): { cols: number; rows: number } {
  // Zero when stdout is not a terminal, or a terminal that never got a size (script, some CI).
  return { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
}

/** Hands local input to the PTY until the returned function gives it back. */
export function takeTerminal(pty: PtyHandle): () => void {
  const stdin = process.stdin;
  const raw = Boolean(stdin.isTTY);
  const onData = (chunk: Buffer) => pty.sendInput(chunk);
  // Piped input has no Ctrl-D to end it; send one, as a person at the terminal would.
  const onEnd = () => pty.sendInput('\x04');
  const onResize = () => pty.resize(terminalSize());
  if (raw) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  process.stdout.on('resize', onResize);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (raw) stdin.setRawMode(false);
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
    process.stdout.off('resize', onResize);
  };
}
