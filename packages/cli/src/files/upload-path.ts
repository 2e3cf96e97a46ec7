import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import { Readable } from 'node:stream';
import { NotFoundError, type Sandbox } from '@paddock/sdk';
import { CliError } from '../errors/cli-error.js';
import { spawnTar } from './tar-process.js';

/** Local file or folder (or stdin for `-`) into a sandbox, with docker cp's rules for existing folders. */
export async function uploadPath(sbx: Sandbox, local: string, remote: string): Promise<void> {
  if (local === '-') return void (await sbx.files.write(remote, webStream(process.stdin), { timeoutMs: 0 }));
  const stats = await stat(local).catch(() => {
    throw new CliError(`${local}: no such file or directory`);
  });
  const existing = await remoteType(sbx, remote);
  // Into an existing folder (or one named with a trailing /) under its own name; else as that name.
  const into = existing === 'dir' || remote.endsWith('/');
  const target = into ? posix.join(remote, basename(local)) : remote;
  if (!stats.isDirectory()) {
    await sbx.files.write(target, webStream(createReadStream(local)), { mode: stats.mode & 0o777, timeoutMs: 0 });
    return;
  }
  if (!into && existing !== undefined) throw new CliError(`cannot copy the folder ${local} onto the file ${remote}`);
  await uploadFolder(sbx, local, target);
}

async function uploadFolder(sbx: Sandbox, local: string, target: string): Promise<void> {
  const tar = spawnTar(['-c', '-C', local, '.']);
  const upload = sbx.files.uploadArchive(target, webStream(tar.stdout), { timeoutMs: 0 });
  // A failed upload stops reading the archive: stop tar too, or it would wait forever.
  upload.catch(() => tar.stop());
  const [uploaded, packed] = await Promise.allSettled([upload, tar.finished]);
  // tar's own error explains a broken archive better than the daemon can.
  if (packed.status === 'rejected') throw packed.reason;
  if (uploaded.status === 'rejected') throw uploaded.reason;
}

async function remoteType(sbx: Sandbox, path: string): Promise<string | undefined> {
  try {
    return (await sbx.files.getInfo(path)).type;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

function webStream(stream: Readable): ReadableStream<Uint8Array> {
  return Readable.toWeb(stream) as ReadableStream<Uint8Array>;
}
