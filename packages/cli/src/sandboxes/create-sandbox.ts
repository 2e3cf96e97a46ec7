import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { onCleanup } from '../lifecycle/cleanup.js';
import { printJson } from '../output/print-json.js';
import { printLines } from '../output/print-lines.js';
import type { SandboxFlags } from './sandbox-flags.js';
import { sandboxReleaser } from './sandbox-releaser.js';
import { sandboxSpec } from './sandbox-spec.js';
import { startSandbox } from './start-sandbox.js';

/** `paddock create`: prints only the id, for ID=$(paddock create …). */
export async function createSandbox(flags: SandboxFlags & { json?: boolean }, command: Command): Promise<void> {
  const creating = startSandbox(connectionFor(command), sandboxSpec(flags));
  // Interrupted before the id was printed, the sandbox would be nobody's: kill it then.
  const unregister = onCleanup(sandboxReleaser(creating));
  const sbx = await creating;
  unregister();
  if (flags.json) printJson(sbx.lastKnown);
  else printLines([sbx.id]);
}
