import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { runCommand } from './run-command.js';

/** `paddock shell`: a login shell on a terminal, as `exec -it ID -- /bin/bash -l`. */
export async function openShell(id: string, flags: { user?: string; workdir?: string }, command: Command): Promise<void> {
  const conn = connectionFor(command);
  const sbx = await Sandbox.connect(id, conn);
  process.exitCode = await runCommand(sbx, conn, { cmd: ['/bin/bash', '-l'], interactive: true, tty: true, user: flags.user, cwd: flags.workdir });
}
