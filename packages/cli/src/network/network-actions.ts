import { printable } from '@paddock/core/client';
import { type ConnectionInfo, Sandbox, type SandboxNetworkInfo } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';

export async function allowHosts(id: string, hosts: string[], flags: { json?: boolean }, command: Command): Promise<void> {
  const sbx = await Sandbox.connect(id, connectionFor(command));
  printRules(await sbx.network.update({ allow: hosts }), flags.json);
}

export async function denyHosts(id: string, hosts: string[], flags: { json?: boolean }, command: Command): Promise<void> {
  const sbx = await Sandbox.connect(id, connectionFor(command));
  printRules(await sbx.network.update({ deny: hosts }), flags.json);
}

export async function showNetwork(id: string, flags: { json?: boolean }, command: Command): Promise<void> {
  const sbx = await Sandbox.connect(id, connectionFor(command));
  const network = await sbx.network.get();
  if (flags.json) {
    printJson(network);
    return;
  }
  printRules(network, false);
  process.stdout.write('\n');
  if (!network.connections.length) {
    process.stdout.write('no connections yet\n');
    return;
  }
  process.stdout.write(formatTable(['TIME', 'VIA', 'HOST', 'PORT', 'DECISION', 'ADDRESS', 'OUT', 'IN', 'REASON'], network.connections.map(connectionRow)));
}

function printRules(network: SandboxNetworkInfo, json: boolean | undefined): void {
  if (json) {
    printJson(network);
    return;
  }
  const list = (items: string[]) => (items.length ? items.join(', ') : '-');
  process.stdout.write(
    [`mode:    ${network.mode}`, `allow:   ${list(network.allow)}`, `deny:    ${list(network.deny)}`, `secrets: ${list(network.secrets)}`, ''].join('\n'),
  );
}

/** Hosts and reasons hold names a sandbox sent (TLS server names, DNS questions): shown escaped. */
function connectionRow(c: ConnectionInfo): string[] {
  return [
    c.at.slice(11, 23),
    c.intercepted ? `${c.via}+secrets` : c.via,
    printable(c.host) || '-',
    c.port === null ? '-' : String(c.port),
    c.decision,
    printable(c.address ?? '-'),
    String(c.bytesOut),
    String(c.bytesIn),
    printable(c.reason ?? ''),
  ];
}
