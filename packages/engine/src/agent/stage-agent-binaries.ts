import { cp, mkdir } from 'node:fs/promises';
import { runHostCommand } from '../host/run-host-command.js';
import { mountPoints } from '../rootfs/sandbox-rootfs.js';

/**
 * Copies the agent binaries (tini, the agent, the egress relay …) onto a
 * read-only tmpfs of their own at `target`, which sandboxes bind instead of
 * the build folder: their mountinfo then shows "/" of a tmpfs named
 * paddock-agent, not the checkout the daemon runs from. A tmpfs left by an
 * earlier start is detached first; sandboxes adopted from that start keep
 * theirs (the kernel frees it with the last of them).
 */
export async function stageAgentBinaries(source: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true, mode: 0o755 });
  await unstageAgentBinaries(target);
  await runHostCommand('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0755,nosuid,nodev', 'paddock-agent', target]);
  await cp(source, target, { recursive: true });
  await runHostCommand('mount', ['-o', 'remount,ro,nosuid,nodev', target]);
}

/** Detaches the tmpfs stageAgentBinaries made, if it is there; running sandboxes keep their view of it. */
export async function unstageAgentBinaries(target: string): Promise<void> {
  if ((await mountPoints()).has(target)) await runHostCommand('umount', ['--lazy', target]);
}
