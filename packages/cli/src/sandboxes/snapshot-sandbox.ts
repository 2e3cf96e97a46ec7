import { sandboxTimeoutBounds } from '@paddock/core/client';
import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { parseOptionalDuration } from '../options/parse-duration.js';

/** `paddock snapshot ID --name T`: prints the new template's name. */
export async function snapshotSandbox(id: string, flags: { name: string }, command: Command): Promise<void> {
  const sbx = await Sandbox.connect(id, connectionFor(command));
  const template = await sbx.snapshot({ name: flags.name });
  process.stdout.write(`${template.name}\n`);
}

/** `paddock fork ID`: prints the fork's id. */
export async function forkSandbox(id: string, flags: { timeout?: string }, command: Command): Promise<void> {
  const sbx = await Sandbox.connect(id, connectionFor(command));
  const fork = await sbx.fork({ timeoutMs: parseOptionalDuration(flags.timeout, '--timeout', sandboxTimeoutBounds) });
  process.stdout.write(`${fork.id}\n`);
}

export async function pauseSandboxes(ids: string[], _flags: object, command: Command): Promise<void> {
  for (const id of ids) {
    await (await Sandbox.connect(id, connectionFor(command))).pause();
    process.stdout.write(`${id}\n`);
  }
}

export async function resumeSandboxes(ids: string[], _flags: object, command: Command): Promise<void> {
  for (const id of ids) {
    await (await Sandbox.connect(id, connectionFor(command))).resume();
    process.stdout.write(`${id}\n`);
  }
}

/** `paddock checkpoint ID`: prints the checkpoint's id. */
export async function checkpointSandbox(id: string, _flags: object, command: Command): Promise<void> {
  const cp = await (await Sandbox.connect(id, connectionFor(command))).checkpoint();
  process.stdout.write(`${cp.id}\n`);
}

/** `paddock rollback ID CP`. */
export async function rollbackSandbox(id: string, checkpoint: string, _flags: object, command: Command): Promise<void> {
  await (await Sandbox.connect(id, connectionFor(command))).rollback(checkpoint);
  process.stdout.write(`${id}\n`);
}
