import { Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { parseCpEndpoint } from './cp-endpoint.js';
import { downloadPath } from './download-path.js';
import { uploadPath } from './upload-path.js';

/** `paddock cp SRC DEST`: exactly one side is ID:/path; prints nothing on success. */
export async function copyFiles(srcText: string, destText: string, _flags: object, command: Command): Promise<void> {
  const src = parseCpEndpoint(srcText);
  const dest = parseCpEndpoint(destText);
  if (src.kind === 'sandbox' && dest.kind === 'local') {
    return downloadPath(await Sandbox.connect(src.id, connectionFor(command)), src.path, dest.path);
  }
  if (src.kind === 'local' && dest.kind === 'sandbox') {
    return uploadPath(await Sandbox.connect(dest.id, connectionFor(command)), src.path, dest.path);
  }
  throw new UsageError('cp needs exactly one side of the form ID:/path, e.g. paddock cp ./data.csv sb-…:/work/');
}
