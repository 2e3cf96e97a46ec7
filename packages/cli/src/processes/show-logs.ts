import { once } from 'node:events';
import { ApiClient, apiCall, type ProcessInfo, Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError } from '../errors/cli-error.js';
import { parsePositiveNumber } from '../options/parse-number.js';

type OutputEvent =
  | { type: 'start' | 'exit' | 'error' }
  | { type: 'stdout' | 'stderr'; data: string }
  | { type: 'dropped'; stream: 'stdout' | 'stderr'; bytes: number };

/** `paddock logs`: output of a background command (the latest unless PID is given), with -f until it exits. */
export async function showLogs(id: string, pidText: string | undefined, flags: { follow?: boolean }, command: Command): Promise<void> {
  const explicitPid = pidText === undefined ? undefined : parsePositiveNumber(pidText, 'PID', 'integer');
  const conn = connectionFor(command);
  const sbx = await Sandbox.connect(id, conn);
  const pid = explicitPid ?? latestPid(await sbx.commands.list(), sbx.id);
  // The output endpoint is read directly: the SDK's CommandHandle.follow() always waits for
  // the exit, while logs without -f must print what is there now and stop.
  const events = new ApiClient(conn).ndjson<OutputEvent>(apiCall('GET /v1/sandboxes/{id}/processes/{pid}/output', { id: sbx.id, pid }), {
    query: { follow: Boolean(flags.follow) },
    timeoutMs: 0,
  });
  for await (const event of events) {
    if (event.type === 'stdout') await write(process.stdout, Buffer.from(event.data, 'base64'));
    else if (event.type === 'stderr') await write(process.stderr, Buffer.from(event.data, 'base64'));
    // On stderr, so what a script reads of stdout stays the command's own output.
    else if (event.type === 'dropped') await write(process.stderr, `paddock: ${event.bytes} earlier bytes of ${event.stream} were not kept\n`);
  }
}

/** Waits while a pipe is full: the CLI exits right after, and output still queued would be lost. */
async function write(out: NodeJS.WriteStream, data: Uint8Array | string): Promise<void> {
  if (!out.write(data)) await once(out, 'drain');
}

export function latestPid(processes: ProcessInfo[], id: string): number {
  const newestFirst = [...processes].sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.pid - a.pid);
  if (!newestFirst[0]) throw new CliError(`sandbox ${id} has no processes started through Paddock`);
  return newestFirst[0].pid;
}
