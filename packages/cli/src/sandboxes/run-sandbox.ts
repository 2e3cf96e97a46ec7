import type { Command } from 'commander';
import { withApprovalHint } from '../approvals/approval-hint.js';
import { parseApprovalWait } from '../approvals/parse-approval-wait.js';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { nameFlags } from '../errors/name-flags.js';
import { onCleanup } from '../lifecycle/cleanup.js';
import { requireCommand } from '../options/require-command.js';
import { type ExecFlags, execFieldFlags } from '../processes/exec-flags.js';
import type { SandboxFlags } from './sandbox-flags.js';
import { sandboxReleaser } from './sandbox-releaser.js';
import { sandboxSpec } from './sandbox-spec.js';
import { startSandbox } from './start-sandbox.js';

export interface RunFlags extends SandboxFlags, ExecFlags {
  keep?: boolean;
  publish?: string[];
}

function parsePublished(text: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= 65_535)) throw new UsageError(`--publish: "${text}" is not a TCP port (1 to 65535)`);
  return n;
}

/** `paddock run`: a fresh sandbox for one command, killed afterwards whatever happens. */
export async function runSandbox(args: string[], flags: RunFlags, command: Command): Promise<void> {
  const spec = sandboxSpec(flags);
  const published = (flags.publish ?? []).map(parsePublished);
  const cmd = requireCommand(args);
  const approvalWaitSeconds = parseApprovalWait(flags.waitApproval);
  const conn = connectionFor(command);
  const deadlineAt = spec.timeoutMs ? Date.now() + spec.timeoutMs : undefined;
  const creating = startSandbox(conn, spec);
  const release = sandboxReleaser(creating, flags.keep);
  const unregister = onCleanup(release);
  try {
    // Loaded while the daemon creates the sandbox, off the critical path.
    const { runCommand } = await import('../processes/run-command.js');
    const sandbox = await creating;
    const watching = published.length ? (await import('../ports/announce-ports.js')).announcePorts(sandbox, published) : undefined;
    process.exitCode = await runCommand(sandbox, conn, {
      cmd,
      interactive: flags.interactive,
      tty: flags.tty,
      user: flags.user,
      cwd: flags.workdir,
      // One deadline for both: the command cannot outlive its sandbox anyway.
      timeoutMs: spec.timeoutMs,
      deadlineAt,
      approvalWaitSeconds,
    }).finally(() => watching?.stop());
  } catch (err) {
    // Each run is a new sandbox, so a later approval of this one could not be used: the next try must wait for it.
    throw withApprovalHint(
      nameFlags(err, execFieldFlags),
      () => 'each run asks anew: repeat with --wait-approval 5m and approve the new request (paddock approvals)',
    );
  } finally {
    unregister();
    await release();
  }
}
