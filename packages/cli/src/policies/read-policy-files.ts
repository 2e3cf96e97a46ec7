import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from '../errors/cli-error.js';

/**
 * The text of every policy file named, or of every *.cedar file of each
 * folder named, keyed by its path as the user wrote it so that problems point
 * back at it.
 */
export async function readPolicyFiles(paths: string[]): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const path of paths) {
    for (const file of await policyFilesAt(path)) files[file] = await readFile(file, 'utf8');
  }
  if (Object.keys(files).length === 0) throw new CliError(`no *.cedar files in ${paths.join(', ')}`);
  return files;
}

async function policyFilesAt(path: string): Promise<string[]> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch {
    throw new CliError(`${path}: no such file or folder`);
  }
  if (!isFolder) return [path];
  const names = (await readdir(path)).filter((name) => name.endsWith('.cedar')).sort();
  return names.map((name) => join(path, name));
}
