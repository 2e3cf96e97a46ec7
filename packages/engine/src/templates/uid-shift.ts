import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Moves every file of a layer into the sandbox's user-namespace range, once at
 * build time: runc 1.1 has no idmapped mounts, so a layer must already be owned
 * by the host uids that root and the users inside map to (Docker's userns-remap
 * does the same). chown clears setuid/setgid bits, so the mode is restored.
 */
export async function shiftOwnership(root: string, offset: number): Promise<number> {
  let count = 0;
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.uid < offset || st.gid < offset) {
      await lchown(path, st.uid < offset ? st.uid + offset : st.uid, st.gid < offset ? st.gid + offset : st.gid);
      if (!st.isSymbolicLink() && st.mode & 0o6000) await chmod(path, st.mode & 0o7777);
      count++;
    }
    if (st.isDirectory()) {
      const names = await readdir(path);
      for (let i = 0; i < names.length; i += 64) {
        await Promise.all(names.slice(i, i + 64).map((n) => visit(join(path, n))));
      }
    }
  };
  await visit(root);
  return count;
}
