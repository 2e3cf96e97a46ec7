import { readFile } from 'node:fs/promises';
import { Secrets } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError, UsageError } from '../errors/cli-error.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { printLines } from '../output/print-lines.js';

export async function setSecret(name: string, flags: { host: string[]; fromFile?: string }, command: Command): Promise<void> {
  const value = flags.fromFile === undefined ? await readStdin() : await readValueFile(flags.fromFile);
  // One trailing newline is how files and `echo` end a value, not part of it.
  const trimmed = value.replace(/\r?\n$/, '');
  if (!trimmed) throw new UsageError('the secret is empty: give its value on stdin or with --from-file');
  const secret = await Secrets.set(name, trimmed, { ...connectionFor(command), hosts: flags.host });
  printLines([`${secret.name} → ${secret.hosts.join(', ')}`]);
}

export async function listSecrets(flags: { json?: boolean }, command: Command): Promise<void> {
  const secrets = await Secrets.list(connectionFor(command));
  if (flags.json) return printJson(secrets);
  process.stdout.write(
    formatTable(
      ['NAME', 'HOSTS', 'UPDATED'],
      secrets.map((s) => [s.name, s.hosts.join(', '), s.updatedAt]),
    ),
  );
}

export async function removeSecrets(names: string[], _flags: unknown, command: Command): Promise<void> {
  const conn = connectionFor(command);
  for (const name of names) {
    await Secrets.remove(name, conn);
    printLines([name]);
  }
}

async function readValueFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`--from-file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('secret value (end with Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  if (process.stdin.isTTY) process.stderr.write('\n');
  return Buffer.concat(chunks).toString('utf8');
}
