import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from '@paddock/core';

/**
 * Where `make build` puts the static `paddock-agent` and `tini`, whether or
 * not they are there yet. Named from the package's root, so it is the same
 * path from the sources as from dist/.
 */
export function agentBinPath(): string {
  return fileURLToPath(new URL('../../dist/bin', import.meta.url));
}

/** Host directory holding the static `paddock-agent` and `tini`, built by `make build`. */
export function agentBinDir(): string {
  const dir = `${agentBinPath()}/`;
  for (const name of ['paddock-agent', 'tini']) {
    if (!existsSync(`${dir}${name}`)) throw new RuntimeError(`${dir}${name} is missing: run make build`);
  }
  return dir.replace(/\/$/, '');
}

/** Host-side helper that mounts a sandbox's rootfs in one process (agent/paddock-mount.c). */
export function mountHelperPath(): string {
  const path = fileURLToPath(new URL('../../dist/host/paddock-mount', import.meta.url));
  if (!existsSync(path)) throw new RuntimeError(`${path} is missing: run make build`);
  return path;
}

/** Host-side helper that makes a sandbox's network namespace in one process (agent/paddock-netns.c). */
export function netnsHelperPath(): string {
  const path = fileURLToPath(new URL('../../dist/host/paddock-netns', import.meta.url));
  if (!existsSync(path)) throw new RuntimeError(`${path} is missing: run make build`);
  return path;
}

/**
 * Host-side helper that moves the bytes of decided connections with splice(2)
 * (agent/paddock-splice.c); undefined when it was not built (then Node copies them).
 */
export function spliceHelperPath(): string | undefined {
  const path = fileURLToPath(new URL('../../dist/host/paddock-splice', import.meta.url));
  return existsSync(path) ? path : undefined;
}

/**
 * Host-side helper that opens ingress connections inside a container
 * sandbox's network namespace (agent/paddock-dial.c); undefined when it was
 * not built (then the in-sandbox agent opens them).
 */
export function dialHelperPath(): string | undefined {
  const path = fileURLToPath(new URL('../../dist/host/paddock-dial', import.meta.url));
  return existsSync(path) ? path : undefined;
}
