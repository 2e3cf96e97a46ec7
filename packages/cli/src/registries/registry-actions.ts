import { Registries } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { printLines } from '../output/print-lines.js';

export async function login(host: string, flags: { username: string; shared?: boolean }, command: Command): Promise<void> {
  if (process.stdin.isTTY) process.stderr.write(`password for ${flags.username} at ${host} (end with Ctrl-D): `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  if (process.stdin.isTTY) process.stderr.write('\n');
  // One trailing newline is how files and `echo` end a value, not part of it.
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!password) throw new UsageError('the password is empty: give it on stdin');
  const made = await Registries.login(host, { username: flags.username, password, shared: flags.shared }, connectionFor(command));
  printLines([`${made.username}@${made.host}${made.shared ? ' (shared)' : ''}`]);
}

export async function logout(host: string, flags: { shared?: boolean }, command: Command): Promise<void> {
  await Registries.logout(host, { ...connectionFor(command), shared: flags.shared });
  printLines([host]);
}

export async function listLogins(flags: { json?: boolean }, command: Command): Promise<void> {
  const logins = await Registries.list(connectionFor(command));
  if (flags.json) return printJson(logins);
  process.stdout.write(
    formatTable(
      ['HOST', 'USER', 'SHARED', 'CREATED'],
      logins.map((l) => [l.host, l.username, l.shared ? 'yes' : '', l.createdAt]),
    ),
  );
}
