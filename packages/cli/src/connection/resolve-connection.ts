import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Connection {
  url: string;
  token?: string;
}

/**
 * Where the daemon is: --url/--token, then PADDOCK_URL/PADDOCK_TOKEN, then the
 * files the local daemon writes in its state folder (PADDOCK_STATE_DIR or
 * /var/lib/paddock).
 */
export function resolveConnection(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Connection {
  const stateDir = env.PADDOCK_STATE_DIR ?? '/var/lib/paddock';
  const url = flags.url ?? env.PADDOCK_URL ?? readEndpointUrl(stateDir) ?? 'http://127.0.0.1:7423';
  const token = flags.token ?? env.PADDOCK_TOKEN ?? readToken(stateDir);
  return { url, token };
}

function readEndpointUrl(stateDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(stateDir, 'endpoint.json'), 'utf8')) as { url?: string }).url;
  } catch {
    return undefined;
  }
}

function readToken(stateDir: string): string | undefined {
  try {
    return readFileSync(join(stateDir, 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
