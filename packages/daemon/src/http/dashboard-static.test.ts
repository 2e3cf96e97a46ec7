import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';

// The dashboard app as paddockd serves it: index.html never cached, hashed
// assets cached for good, a page's path falling back to index.html, and the
// same strict headers on every answer. The attacks (traversal, symlinks) are
// in security/dashboard-probes.test.ts.
let daemon: FastDaemon;
let unbuilt: FastDaemon;
let dir: string;

const csp =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const indexHtml = '<!doctype html><html><head><script type="module" src="/assets/index-3f2a1b.js"></script></head><body></body></html>';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paddock-dashboard-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), indexHtml);
  await writeFile(join(dir, 'assets', 'index-3f2a1b.js'), 'console.log("app")');
  await writeFile(join(dir, 'assets', 'index-9c8d7e.css'), 'body{}');
  daemon = await startFastDaemon(['--dashboard-dir', dir]);
  unbuilt = await startFastDaemon(['--dashboard-dir', join(dir, 'nothing-here')]);
});

afterAll(async () => {
  await daemon?.stop();
  await unbuilt?.stop();
  await rm(dir, { recursive: true, force: true });
});

function expectDashboardHeaders(res: Response): void {
  expect(res.headers.get('content-security-policy')).toBe(csp);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
}

describe('serving the dashboard', () => {
  it("serves no dashboard with --dashboard-dir '': its paths need a token as any API path does, the API is unchanged", async () => {
    const off = await startFastDaemon(['--dashboard-dir', '']);
    try {
      for (const path of ['/', '/index.html', '/assets/index-3f2a1b.js', '/sandboxes']) {
        const res = await fetch(`${off.url}${path}`, { headers: { accept: 'text/html' } });
        expect(res.status).toBe(401);
        expect(res.headers.get('content-security-policy')).toBeNull();
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      }
      expect((await off.api('/v1/whoami')).status).toBe(200);
    } finally {
      await off.stop();
    }
  });

  it('serves index.html at / and /index.html, without a token, never cached', async () => {
    for (const path of ['/', '/index.html']) {
      const res = await fetch(`${daemon.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expectDashboardHeaders(res);
      expect(await res.text()).toBe(indexHtml);
    }
  });

  it('serves hashed assets as immutable, with their types', async () => {
    const js = await fetch(`${daemon.url}/assets/index-3f2a1b.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expectDashboardHeaders(js);
    expect(await js.text()).toBe('console.log("app")');
    const css = await fetch(`${daemon.url}/assets/index-9c8d7e.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const head = await fetch(`${daemon.url}/assets/index-3f2a1b.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('18');
  });

  it('answers a missing asset with a JSON 404 carrying the same headers', async () => {
    const res = await fetch(`${daemon.url}/assets/index-000000.js`);
    expect(res.status).toBe(404);
    expectDashboardHeaders(res);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('falls back to index.html for a page a browser asks for, never for the API', async () => {
    const page = await fetch(`${daemon.url}/sandboxes/sb-123`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(indexHtml);
    expectDashboardHeaders(page);
    // Not a page: the API's answers, as before.
    const api = await fetch(`${daemon.url}/v1/sandboxes`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(401);
    const unknown = await daemon.api('/v1/nothing-here', { headers: { accept: 'text/html' } });
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('route_not_found');
    const doc = await fetch(`${daemon.url}/openapi.json`, { headers: { accept: 'text/html' } });
    expect(doc.headers.get('content-type')).toContain('application/json');
    const notPage = await fetch(`${daemon.url}/sandboxes/sb-123`);
    expect(notPage.status).toBe(401);
  });

  it('says how to build the dashboard when it is not built', async () => {
    const res = await fetch(`${unbuilt.url}/`);
    expect(res.status).toBe(404);
    expectDashboardHeaders(res);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('dashboard_not_built');
    expect(body.error.message).toContain('make build');
  });
});
