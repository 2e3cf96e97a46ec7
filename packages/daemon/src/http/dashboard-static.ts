import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError, type PaddockError } from '@paddock/core';
import { getMimeType } from 'hono/utils/mime';

/**
 * What every dashboard response carries: the app runs only its own scripts
 * and styles (no inline ones, nothing from elsewhere), talks only to this
 * daemon, and cannot be framed, sniffed or leak its URL in a Referer.
 */
export const dashboardHeaders: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; " +
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const immutable = 'public, max-age=31536000, immutable';
/** A built asset's name: one path segment, as Vite names them (index-3f2a1b.js); no dot first, so never `..`. */
const assetName = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

/**
 * Whether a request is for the dashboard app rather than the API: `/`,
 * `/index.html`, `/assets/…`, and any other GET a browser makes for a page
 * (Accept: text/html) outside the API's paths. These need no token: the app
 * signs in itself.
 */
export function isDashboardRequest(method: string, path: string, accept: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (path === '/' || path === '/index.html' || path.startsWith('/assets/')) return true;
  const api = path === '/v1' || path.startsWith('/v1/') || path === '/mcp' || path.startsWith('/mcp/') || path === '/openapi.json';
  return !api && (accept ?? '').includes('text/html');
}

/**
 * Serves the built app from `dir`. Files are opened without following a
 * symbolic link (a link planted in the folder serves nothing), and only
 * regular files are served; an asset's name is one plain segment, so no
 * path, encoded or not, leaves `assets/`.
 */
export async function serveDashboard(dir: string, method: string, path: string): Promise<Response> {
  try {
    if (path.startsWith('/assets/')) return await serveAsset(dir, path.slice('/assets/'.length), method);
    return await serveFile(join(dir, 'index.html'), 'no-cache', method, () => notBuilt());
  } catch (err) {
    const error = err as PaddockError;
    if (error instanceof NotFoundError) return Response.json(error.toJSON(), { status: error.status, headers: dashboardHeaders });
    throw err;
  }
}

async function serveAsset(dir: string, encoded: string, method: string): Promise<Response> {
  const missing = () => new NotFoundError('no such dashboard asset', {}, 'not_found');
  let name: string;
  try {
    name = decodeURIComponent(encoded);
  } catch {
    throw missing();
  }
  if (!assetName.test(name)) throw missing();
  const assets = join(dir, 'assets');
  const folder = await lstat(assets).catch(() => undefined);
  if (!folder?.isDirectory()) throw missing();
  return serveFile(join(assets, name), immutable, method, missing);
}

async function serveFile(file: string, cacheControl: string, method: string, missing: () => NotFoundError): Promise<Response> {
  // O_NOFOLLOW: a symbolic link as the last part fails with ELOOP instead of being followed.
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!handle) throw missing();
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw missing();
    const headers = {
      ...dashboardHeaders,
      'content-type': getMimeType(file) ?? 'application/octet-stream',
      'content-length': String(stat.size),
      'cache-control': cacheControl,
    };
    if (method === 'HEAD') return new Response(null, { status: 200, headers });
    return new Response(await handle.readFile(), { status: 200, headers });
  } finally {
    await handle.close();
  }
}

function notBuilt(): NotFoundError {
  return new NotFoundError(
    'the dashboard is not built: run `make build` (or `npm run build -w packages/dashboard`), or start paddockd with --dashboard-dir naming a built one',
    {},
    'dashboard_not_built',
  );
}
