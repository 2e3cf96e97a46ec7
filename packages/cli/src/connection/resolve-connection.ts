import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Connection {
  url: string;
  token?: string;
}

export interface ConnectionFlags {
  url?: string;
  token?: string;
}

const defaultUrl = 'http://127.0.0.1:7423';

/**
 * Where the daemon is: --url/--token, then PADDOCK_URL/PADDOCK_TOKEN, then the
 * files the local daemon writes to its state folder (PADDOCK_STATE_DIR or
 * /var/lib/paddock): endpoint.json and token.
 */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const url = flags.url ?? env.PADDOCK_URL;
  const token = flags.token ?? env.PADDOCK_TOKEN;
  if (url && token) return { url, token };
  const stateDir = env.PADDOCK_STATE_DIR ?? '/var/lib/paddock';
  const localUrl = readEndpointUrl(stateDir);
  // The local daemon's token goes to the local daemon only, never to a server named elsewhere.
  const local = url === undefined || sameUrl(url, localUrl);
  return { url: url ?? localUrl ?? defaultUrl, token: token ?? (local ? readToken(stateDir) : undefined) };
}

function sameUrl(a: string, b: string | undefined): boolean {
  return b !== undefined && a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
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
