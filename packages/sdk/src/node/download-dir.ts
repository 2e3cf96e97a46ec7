import type { FileOptions, Files } from '../files.js';
import { extractArchive } from './extract-archive.js';

/**
 * A sandbox folder's contents into `localDir` (created if missing), unpacked
 * by the rules of extractArchive: what a sandbox's root put in the folder
 * cannot become a setuid file, a device or a link out of `localDir` here.
 */
export async function downloadDir(files: Files, remote: string, localDir: string, options: FileOptions = {}): Promise<void> {
  // The archive holds the folder under its own name; its contents go straight into localDir.
  await extractArchive(await files.downloadArchive(remote, options), localDir, { strip: 1 });
}
