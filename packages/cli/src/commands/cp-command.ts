import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import type { Connection } from '../connection/resolve-connection.js';
import { CliError } from '../output/cli-error.js';

type Side = { kind: 'local'; path: string } | { kind: 'sandbox'; id: string; path: string };

function parseSide(text: string): Side {
  const match = /^(sb-[a-z0-9]+):(.*)$/.exec(text);
  if (match) return { kind: 'sandbox', id: match[1] as string, path: match[2] || '/' };
  return { kind: 'local', path: text };
}

export function registerCpCommand(program: Command, connection: () => Connection): void {
  program
    .command('cp')
    .description('copy files or folders between the local machine and a sandbox (ID:/path on one side; - is stdin/stdout)')
    .argument('<src>')
    .argument('<dest>')
    .action(async (srcText: string, destText: string) => {
      const src = parseSide(srcText);
      const dest = parseSide(destText);
      if (src.kind === dest.kind) throw new CliError('cp needs exactly one side of the form ID:/path');
      if (src.kind === 'local' && dest.kind === 'sandbox') await upload(await Sandbox.connect(dest.id, connection()), src.path, dest.path);
      else if (src.kind === 'sandbox' && dest.kind === 'local') await download(await Sandbox.connect(src.id, connection()), src.path, dest.path);
    });
}

async function sandboxDirExists(sbx: Sandbox, path: string): Promise<boolean> {
  try {
    return (await sbx.files.getInfo(path)).type === 'dir';
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

async function upload(sbx: Sandbox, local: string, remote: string): Promise<void> {
  if (local === '-') {
    await sbx.files.write(remote, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>);
    return;
  }
  if (!existsSync(local)) throw new CliError(`${local}: no such file or directory`);
  const intoDir = remote.endsWith('/') || (await sandboxDirExists(sbx, remote));
  if (statSync(local).isDirectory()) {
    // Docker semantics: into an existing folder as its own name, else as the new folder.
    const target = intoDir ? posix.join(remote, basename(local)) : remote;
    const tar = spawn('tar', ['-c', '-C', local, '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await sbx.files.uploadArchive(target, Readable.toWeb(tar.stdout) as ReadableStream<Uint8Array>);
    return;
  }
  const target = intoDir ? posix.join(remote, basename(local)) : remote;
  await sbx.files.write(target, Readable.toWeb(createReadStream(local)) as ReadableStream<Uint8Array>, { mode: statSync(local).mode & 0o777 });
}

async function download(sbx: Sandbox, remote: string, local: string): Promise<void> {
  const info = await sbx.files.getInfo(remote);
  if (info.type === 'dir') {
    if (local === '-') {
      await pipeline(Readable.fromWeb((await sbx.files.downloadArchive(remote)) as never), process.stdout);
      return;
    }
    const intoExisting = existsSync(local) && statSync(local).isDirectory();
    const target = intoExisting ? local : local;
    if (!intoExisting) mkdirSync(local, { recursive: true });
    // The archive holds the folder under its own name: strip it when copying to a new name.
    const args = intoExisting ? ['-x', '-C', target] : ['-x', '-C', target, '--strip-components=1'];
    const tar = spawn('tar', args, { stdio: ['pipe', 'inherit', 'inherit'] });
    const done = new Promise<number>((resolve) => tar.on('close', (code) => resolve(code ?? 1)));
    await pipeline(Readable.fromWeb((await sbx.files.downloadArchive(remote)) as never), tar.stdin);
    if ((await done) !== 0) throw new CliError('tar could not unpack the archive');
    return;
  }
  const stream = Readable.fromWeb((await sbx.files.read(remote, { format: 'stream' })) as never);
  if (local === '-') return pipeline(stream, process.stdout as unknown as Writable);
  const target = existsSync(local) && statSync(local).isDirectory() ? join(local, posix.basename(remote)) : local;
  if (!existsSync(dirname(target))) throw new CliError(`${dirname(target)}: no such directory`);
  await pipeline(stream, createWriteStream(target, { mode: info.mode }));
}
