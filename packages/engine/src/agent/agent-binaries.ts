import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '@paddock/core';

/** Host directory holding the static `paddock-agent` and `tini`, built by `make build`. */
export function agentBinDir(): string {
  const dir = fileURLToPath(new URL('../bin/', import.meta.url));
  for (const name of ['paddock-agent', 'tini']) {
    if (!existsSync(`${dir}${name}`)) throw new RuntimeError(`${dir}${name} is missing: run make build`);
  }
  return dir.replace(/\/$/, '');
}

/** Host-side helper that mounts a sandbox's rootfs in one process (agent/paddock-mount.c). */
export function mountHelperPath(): string {
  const path = fileURLToPath(new URL('../host/paddock-mount', import.meta.url));
  if (!existsSync(path)) throw new RuntimeError(`${path} is missing: run make build`);
  return path;
}
