import { type ProcessInfo, Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { timeAgo } from '../output/relative-time.js';

/** `paddock ps`: the processes started in a sandbox through Paddock, running and recently exited. */
export async function listProcesses(id: string, flags: { json?: boolean }, command: Command): Promise<void> {
  const sbx = await Sandbox.connect(id, connectionFor(command));
  const processes = await sbx.commands.list();
  if (flags.json) return printJson(processes);
  process.stdout.write(formatTable(['PID', 'STATE', 'EXIT', 'STARTED', 'COMMAND'], processes.map(processRow)));
}

function processRow(p: ProcessInfo): string[] {
  const exit = p.exitCode === null ? '-' : `${p.exitCode}${p.signal ? ` (${p.signal})` : ''}`;
  return [String(p.pid), p.state, exit, timeAgo(p.startedAt), p.cmd.join(' ')];
}
