import { realpath } from 'node:fs/promises';
import { BadRequestError, type GatewayManifest } from '@paddock/core';
import type { HostMount } from '@paddock/engine';

/**
 * The host paths a manifest grants, each resolved to the file it is now (a
 * symlink is followed here, once, not by the runtime) and checked against
 * the daemon's own folders: run at every start of the server, so a link
 * changed since the manifest was accepted cannot bring the daemon's state in.
 */
export async function resolveHostMounts(manifest: GatewayManifest, protectedPaths: readonly string[]): Promise<HostMount[]> {
  const granted = [
    ...(manifest.files?.read ?? []).map((path) => ({ path, writable: false })),
    ...(manifest.files?.write ?? []).map((path) => ({ path, writable: true })),
  ];
  const guardedPaths = await Promise.all(protectedPaths.map((p) => realpath(p).catch(() => p)));
  return Promise.all(
    granted.map(async ({ path, writable }) => {
      const source = await realpath(path).catch(() => {
        throw new BadRequestError(`host path ${path} does not exist`, { path }, 'gateway_file_missing');
      });
      for (const guarded of guardedPaths) {
        if (source === guarded || source.startsWith(`${guarded}/`) || guarded.startsWith(`${source}/`) || source === '/') {
          throw new BadRequestError(`${path} holds the daemon's own files (${guarded}): it cannot be given to a server`, { path }, 'gateway_file_refused');
        }
      }
      return { path, source, writable };
    }),
  );
}
