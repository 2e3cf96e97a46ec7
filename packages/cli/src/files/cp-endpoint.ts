import { UsageError } from '../errors/cli-error.js';

/** One side of `paddock cp`: a local path (`-` for stdin/stdout) or ID:/path in a sandbox. */
export type CpEndpoint = { kind: 'local'; path: string } | { kind: 'sandbox'; id: string; path: string };

export function parseCpEndpoint(text: string): CpEndpoint {
  const match = /^(sb-[a-z0-9]+):(.*)$/.exec(text);
  if (!match) return { kind: 'local', path: text };
  if (!match[2]) throw new UsageError(`${text}: missing path after the sandbox id, e.g. ${match[1]}:/work`);
  return { kind: 'sandbox', id: match[1] as string, path: match[2] };
}
