import { readFile } from 'node:fs/promises';
import { printable } from '@paddock/core/client';
import { Gateway, type GatewayManifestInput, type GatewayServerInfo, type GatewayToolInfo } from '@paddock/sdk';
import type { Command } from 'commander';
import { parseApprovalWait } from '../approvals/parse-approval-wait.js';
import { connectionFor } from '../connection/connection-for.js';
import { CliError, UsageError } from '../errors/cli-error.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { printLines } from '../output/print-lines.js';
import { waitUntilReady } from './wait-until-ready.js';

interface AddFlags {
  manifest: string;
  command?: string;
  pin?: boolean;
  replace?: boolean;
  wait: boolean;
  json?: boolean;
}

/** `paddock gateway add NAME --manifest FILE (--command LINE | -- ARGV…)`: waits until the server is ready, then lists its tools. */
export async function addServer(name: string, argv: string[], flags: AddFlags, command: Command): Promise<void> {
  if (flags.command !== undefined && argv.length) throw new UsageError('give the server command either as --command or after --, not both');
  const cmd = flags.command !== undefined ? ['sh', '-c', flags.command] : argv;
  if (cmd.length === 0 || (flags.command !== undefined && !flags.command.trim()))
    throw new UsageError('give the server command: --command "…" or -- program args…');
  const manifest = await readManifest(flags.manifest);
  const conn = connectionFor(command);
  const spec = { command: cmd, manifest, ...(flags.pin ? { pin: true } : {}) };
  let server = flags.replace ? await Gateway.set(name, spec, conn) : await Gateway.add(name, spec, conn);
  if (flags.wait) server = await waitUntilReady(name, conn);
  if (flags.json) return printJson(server);
  if (server.state !== 'ready') return printLines([`${name}: ${server.state}`]);
  printLines([
    `${name}: ready, ${server.tools.length} tools${server.serverInfo ? ` (${printable(`${server.serverInfo.name} ${server.serverInfo.version}`)})` : ''}`,
  ]);
  process.stdout.write(toolTable(server.tools));
}

export async function listServers(flags: { quiet?: boolean; json?: boolean }, command: Command): Promise<void> {
  const servers = await Gateway.list(connectionFor(command));
  if (flags.json) return printJson(servers);
  if (flags.quiet) return printLines(servers.map((s) => s.name));
  process.stdout.write(formatTable(['NAME', 'STATE', 'TOOLS', 'RESTARTS', 'TIER', 'SANDBOX', 'PINNED', 'LAST ERROR'], servers.map(serverRow)));
}

export async function inspectServer(name: string, _flags: unknown, command: Command): Promise<void> {
  printJson(await Gateway.get(name, connectionFor(command)));
}

export async function listTools(name: string | undefined, flags: { json?: boolean }, command: Command): Promise<void> {
  const conn = connectionFor(command);
  const tools = name ? (await Gateway.get(name, conn)).tools : await Gateway.tools(conn);
  if (flags.json) return printJson(tools);
  process.stdout.write(toolTable(tools));
}

/** Shows the tools as clients will read them, then pins exactly those: a listing that changed meanwhile is refused. */
export async function pinServer(name: string, _flags: unknown, command: Command): Promise<void> {
  const conn = connectionFor(command);
  const shown = await Gateway.get(name, conn);
  process.stdout.write(toolTable(shown.tools));
  const digests = Object.fromEntries(shown.tools.map((t) => [t.tool, t.digest]));
  const server = await Gateway.pin(name, { ...conn, digests });
  printLines([`${name}: these ${server.tools.length} tools pinned at ${server.pinnedAt}`]);
}

export async function restartServer(name: string, _flags: unknown, command: Command): Promise<void> {
  await Gateway.restart(name, connectionFor(command));
  printLines([name]);
}

export async function showLogs(name: string, flags: { lines?: string }, command: Command): Promise<void> {
  const lines = flags.lines === undefined ? undefined : Number(flags.lines);
  if (lines !== undefined && (!Number.isInteger(lines) || lines < 1 || lines > 500))
    throw new UsageError(`--lines: "${flags.lines}" is not a whole number from 1 to 500`);
  printLines((await Gateway.logs(name, { ...connectionFor(command), ...(lines ? { lines } : {}) })).map((line) => printable(line)));
}

export async function callTool(
  tool: string,
  flags: { args: string; waitApproval?: string; approval?: string; json?: boolean },
  command: Command,
): Promise<void> {
  let args: unknown;
  try {
    args = JSON.parse(flags.args);
  } catch {
    throw new UsageError('--args: not valid JSON');
  }
  if (!args || typeof args !== 'object' || Array.isArray(args)) throw new UsageError('--args: give a JSON object, e.g. \'{"text":"hi"}\'');
  const result = await Gateway.callTool(tool, args as Record<string, unknown>, {
    ...connectionFor(command),
    approvalWaitSeconds: parseApprovalWait(flags.waitApproval),
    ...(flags.approval ? { approvalId: flags.approval } : {}),
  });
  if (flags.json) printJson(result);
  else printLines([printable(result.content.map((c) => (c.type === 'text' ? String(c.text) : `[${String(c.type)}]`)).join('\n'), true)]);
  if (result.isError) throw new CliError(`${tool} answered with an error`);
}

export async function removeServers(names: string[], _flags: unknown, command: Command): Promise<void> {
  const conn = connectionFor(command);
  for (const name of names) {
    await Gateway.remove(name, conn);
    printLines([name]);
  }
}

export async function printSchema(_flags: unknown, command: Command): Promise<void> {
  printJson(await Gateway.manifestSchema(connectionFor(command)));
}

/** The manifest as JSON; the daemon checks it against its schema and names each field it refuses. */
async function readManifest(path: string): Promise<GatewayManifestInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`--manifest: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return JSON.parse(text) as GatewayManifestInput;
  } catch (err) {
    throw new UsageError(`--manifest: ${path} is not valid JSON (${(err as Error).message})`);
  }
}

function serverRow(s: GatewayServerInfo): string[] {
  const offered = s.tools.filter((t) => t.offered).length;
  return [
    s.name,
    s.state,
    offered === s.tools.length ? String(offered) : `${offered}/${s.tools.length}`,
    String(s.restarts),
    String(s.manifest.tier),
    s.sandboxId ?? '-',
    s.pinnedAt ? 'yes' : 'no',
    printable(s.lastError ?? ''),
  ];
}

/** The operator reads what a model will read: each tool's description, marked when it is held back. */
function toolTable(tools: GatewayToolInfo[]): string {
  return formatTable(
    ['TOOL', 'PIN', 'OFFERED', 'DESCRIPTION'],
    tools.map((t) => [t.name, t.pin, t.offered ? 'yes' : 'HELD BACK', printable((t.description ?? '').replace(/\s+/g, ' '))]),
  );
}
