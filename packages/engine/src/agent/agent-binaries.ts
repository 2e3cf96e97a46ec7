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
