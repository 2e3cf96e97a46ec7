import { realpath } from 'node:fs/promises';
import { BadRequestError, type GatewayManifest, isReservedHostPath, isWithinPath } from '@paddock/core';
import type { HostMount } from '@paddock/engine';

/**
 * The host paths a manifest grants, each resolved to the file it is now (a
 * symlink is followed here, once, not by the runtime) and checked against
 * the daemon's own folders and the system's: run at every start of the
 * server, so a link changed since the manifest was accepted cannot bring
 * the daemon's state in.
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
      if (isReservedHostPath(source)) {
        throw new BadRequestError(`${path} leads to ${source}, which cannot be given to a server`, { path, source }, 'gateway_file_refused');
      }
      for (const guarded of guardedPaths) {
        if (isWithinPath(source, guarded) || isWithinPath(guarded, source)) {
          throw new BadRequestError(`${path} holds the daemon's own files (${guarded}): it cannot be given to a server`, { path }, 'gateway_file_refused');
        }
      }
      return { path, source, writable };
    }),
  );
}
