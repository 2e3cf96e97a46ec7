import { BadRequestError } from '@paddock/core/client';

export interface Connection {
  url: string;
  token?: string;
  /** PEM of the certificate authorities to trust for an https URL, in place of Node's built-in ones (a self-signed daemon). */
  ca?: string;
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
 * A CA for an https daemon: `ca` (PEM), else the file `caFile`, else PADDOCK_CA_FILE.
 */
export function resolveConnection(given: { url?: string; token?: string; ca?: string; caFile?: string }, env: Env = processEnv()): Connection {
  const url = given.url ?? env.PADDOCK_URL;
  const token = given.token ?? env.PADDOCK_TOKEN;
  const ca = given.ca ?? readCaFile(given.caFile ?? env.PADDOCK_CA_FILE, given.caFile ? 'the CA file' : 'PADDOCK_CA_FILE');
  const withCa = (conn: Connection): Connection => (ca ? { ...conn, ca } : conn);
  if (url && token) return withCa({ url, token });
  const fs = nodeFs();
  if (!fs) return withCa({ url: url ?? defaultUrl, token });
  const stateDir = env.PADDOCK_STATE_DIR ?? defaultStateDir;
  const localUrl = readEndpointUrl(fs, stateDir);
  // The local daemon's token goes to the local daemon only, never to a server named elsewhere.
  const local = url === undefined || sameUrl(url, localUrl);
  return withCa({ url: url ?? localUrl ?? defaultUrl, token: token ?? (local ? readToken(fs, stateDir) : undefined) });
}

/** The CA file's PEM; a file that cannot be read, or holds no certificate, is the caller's error, said at once. */
function readCaFile(file: string | undefined, setting: string): string | undefined {
  if (!file) return undefined;
  const fs = nodeFs();
  if (!fs) throw new BadRequestError(`${setting}: a CA file can only be read on Node; pass its PEM as ca`);
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new BadRequestError(`${setting}: cannot read ${file} (${(err as { code?: string }).code ?? (err as Error).message})`, { file });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new BadRequestError(`${setting}: ${file} holds no PEM certificate`, { file });
  return pem;
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
