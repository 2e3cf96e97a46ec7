import { parseDurationMs, sandboxTimeoutBounds } from '@paddock/core/client';
import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { checkRange } from '../options/check-range.js';
import { timeUntil } from '../output/relative-time.js';

/** `paddock timeout ID DURATION`: the sandbox now lives DURATION from now. */
export async function setSandboxTimeout(id: string, duration: string, _flags: object, command: Command): Promise<void> {
  const timeoutMs = checkRange(parseDurationMs(duration, 'duration'), sandboxTimeoutBounds, 'duration', 'duration');
  const sbx = await Sandbox.connect(id, connectionFor(command));
  await sbx.setTimeout(timeoutMs);
  process.stdout.write(`${sbx.id} expires ${timeUntil(sbx.lastKnown.expiresAt)}\n`);
}
