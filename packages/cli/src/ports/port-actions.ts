import { type PortList, Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { parseOptionalDuration } from '../options/parse-duration.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';

interface PortFlags {
  public?: boolean;
  ttl?: string;
  revoke?: string;
  json?: boolean;
}

export async function portCommand(id: string, portText: string | undefined, flags: PortFlags, command: Command): Promise<void> {
  const port = portText === undefined ? undefined : parsePort(portText);
  if (flags.ttl !== undefined && !flags.public) throw new UsageError('--ttl: only with --public');
  if (flags.public && port === undefined) throw new UsageError('--public: name the port, e.g. paddock port ID 8000 --public');
  const sbx = await Sandbox.connect(id, connectionFor(command));
  if (flags.revoke) {
    await sbx.ports.revoke(flags.revoke);
    if (flags.json) printJson({ revoked: flags.revoke });
    else process.stdout.write(`revoked ${flags.revoke}\n`);
    return;
  }
  if (flags.public && port !== undefined) {
    const link = await sbx.ports.expose(port, { public: true, ttlMs: parseOptionalDuration(flags.ttl, '--ttl') });
    if (flags.json) {
      printJson(link);
      return;
    }
    process.stdout.write(`${link.hostUrl}\n${link.pathUrl}\n`);
    process.stderr.write(`public link ${link.id}, works until ${link.expiresAt}; revoke: paddock port ${id} --revoke ${link.id}\n`);
    return;
  }
  if (port !== undefined) {
    const urls = await sbx.ports.urls(port);
    if (flags.json) {
      printJson(urls);
      return;
    }
    process.stdout.write(`${urls.hostUrl}\n${urls.pathUrl}\n`);
    return;
  }
  printList(await sbx.ports.list(), flags.json);
}

function printList(list: PortList, json: boolean | undefined): void {
  if (json) {
    printJson(list);
    return;
  }
  if (!list.ports.length) process.stdout.write('nothing listens on a TCP port in the sandbox\n');
  else
    process.stdout.write(
      formatTable(
        ['PORT', 'ADDRESS', 'URL'],
        list.ports.map((p) => [String(p.port), p.address, p.hostUrl]),
      ),
    );
  if (list.links.length) {
    process.stdout.write('\n');
    process.stdout.write(
      formatTable(
        ['LINK', 'PORT', 'EXPIRES', 'BY'],
        list.links.map((l) => [l.id, String(l.port), l.expiresAt, l.createdBy]),
      ),
    );
  }
}

function parsePort(text: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= 65_535)) throw new UsageError(`port: "${text}" is not a TCP port (1 to 65535)`);
  return n;
}
