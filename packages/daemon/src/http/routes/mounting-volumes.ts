import type { SandboxVolume } from '@paddock/core';
import type { Context } from 'hono';
import type { HttpEnv } from '../http-env.js';
import type { Services } from '../services.js';

/**
 * Each volume a sandbox will mount (a create's, a gateway server's) is its
 * own decision (volume.mount) and audit record, the work running inside them
 * all.
 */
export function mountingVolumes<T>(c: Context<HttpEnv>, s: Services, volumes: readonly SandboxVolume[], work: () => Promise<T>): Promise<T> {
  const [first, ...rest] = volumes;
  if (!first) return work();
  return s.govern(c, { action: 'volume.mount', resource: `volume:${first.name}`, context: { path: first.path, op: first.readOnly ? 'ro' : 'rw' } }, () =>
    mountingVolumes(c, s, rest, work),
  );
}
