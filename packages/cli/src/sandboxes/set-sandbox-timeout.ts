import { parseDurationMs } from '@paddock/core/client';
import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { timeUntil } from '../output/relative-time.js';

/** `paddock timeout ID DURATION`: the sandbox now lives DURATION from now. */
export async function setSandboxTimeout(id: string, duration: string, _flags: object, command: Command): Promise<void> {
  const timeoutMs = parseDurationMs(duration, 'duration');
  const sbx = await Sandbox.connect(id, connectionFor(command));
  await sbx.setTimeout(timeoutMs);
  process.stdout.write(`${sbx.id} expires ${timeUntil(sbx.lastKnown.expiresAt)}\n`);
}
