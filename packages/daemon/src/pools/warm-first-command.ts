import { constants } from 'node:os';
import type { ExecSession, SandboxHost } from '@paddock/engine';
import type { SandboxRecord } from '../store/sandbox-store.js';

/** What a pooled sandbox runs once, as its user and in its working directory, before anyone claims it. */
export const warmUpCommand = ['true'];

/**
 * Pays a pooled sandbox's first-command costs before it is claimed. A
 * sandbox's first command is dearer than its later ones: the agent creates its
 * supervision directory, reads /etc/passwd, and the kernel builds the
 * overlay's directory entries for the PATH directories, the loader and libc
 * from scratch (they are per mount, and every sandbox mounts its own), and the
 * daemon makes its first read of the sandbox's memory.events in cgroupfs.
 * `true` touches all of those and changes nothing a claimer can see: it writes
 * no file, it runs past the daemon's process list (the claimer's `ps` and
 * logs never show it) and outside any API call (no audit record: no one
 * asked for it), and it has exited and been collected before the pool hands
 * the sandbox out. A template without `true` is simply not warmed.
 */
export async function warmFirstCommand(engine: SandboxHost, sandbox: SandboxRecord, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  engine.oomKills(sandbox.id);
  const env = Object.entries(sandbox.env).map(([k, v]) => `${k}=${v}`);
  let session: ExecSession;
  try {
    session = await engine
      .agent(sandbox.id)
      .exec({ cmd: warmUpCommand, env, cwd: sandbox.workdir, user: sandbox.defaultUser }, {}, { timeoutMs: options.timeoutMs, signal: options.signal });
  } catch {
    // Not started (no `true` in the image, say): nothing runs, nothing to warm.
    return;
  }
  session.closeStdin();
  // The exit is bounded too: whatever a template calls `true` must not hold the pool's filler.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), options.timeoutMs);
  });
  try {
    if ((await Promise.race([session.exited, late])) === 'late') {
      session.signal(constants.signals.SIGKILL);
      throw new Error(`${warmUpCommand.join(' ')} did not exit within ${options.timeoutMs} ms`);
    }
  } finally {
    clearTimeout(timer);
  }
}
