export interface Connection {
  url: string;
  token?: string;
}

type Env = Record<string, string | undefined>;

export const defaultUrl = 'http://127.0.0.1:7423';
export const defaultStateDir = '/var/lib/paddock';

/**
 * Where the daemon is and which token to show it: what was given, then
 * PADDOCK_URL/PADDOCK_TOKEN, then the files the local daemon writes to its
 * state folder (PADDOCK_STATE_DIR or /var/lib/paddock): endpoint.json and
 * token. The CLI and the SDK share this, so both find the same daemon.
 * Where there is no file system (a browser, a worker), only the first two.
 */
export function resolveConnection(given: { url?: string; token?: string }, env: Env = processEnv()): Connection {
  const url = given.url ?? env.PADDOCK_URL;
  const token = given.token ?? env.PADDOCK_TOKEN;
  if (url && token) return { url, token };
  const fs = nodeFs();
  if (!fs) return { url: url ?? defaultUrl, token };
  const stateDir = env.PADDOCK_STATE_DIR ?? defaultStateDir;
  const localUrl = readEndpointUrl(fs, stateDir);
  // The local daemon's token goes to the local daemon only, never to a server named elsewhere.
  const local = url === undefined || sameUrl(url, localUrl);
  return { url: url ?? localUrl ?? defaultUrl, token: token ?? (local ? readToken(fs, stateDir) : undefined) };
}

type Fs = typeof import('node:fs');

function processEnv(): Env {
  return typeof process !== 'undefined' ? (process.env ?? {}) : {};
}

/** node:fs without a static import, so the SDK still loads where there is none (getBuiltinModule: Node 20.16+). */
function nodeFs(): Fs | undefined {
  if (typeof process === 'undefined' || !process.versions?.node) return undefined;
  return (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.('node:fs') as Fs | undefined;
}

function sameUrl(a: string, b: string | undefined): boolean {
  return b !== undefined && a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function readEndpointUrl(fs: Fs, stateDir: string): string | undefined {
  try {
    const url = (JSON.parse(fs.readFileSync(`${stateDir}/endpoint.json`, 'utf8')) as { url?: unknown }).url;
    return typeof url === 'string' ? url : undefined;
  } catch {
    return undefined;
  }
}

function readToken(fs: Fs, stateDir: string): string | undefined {
  try {
    return fs.readFileSync(`${stateDir}/token`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
