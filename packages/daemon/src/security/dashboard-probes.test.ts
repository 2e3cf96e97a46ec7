import { request } from 'node:http';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';

// Section W of docs/security-probes.md: attacks on the web dashboard's sign-in
// and serving, through the HTTP API as a browser (or a page on another site
// driving one) would make them. They test the daemon's HTTP layer, so they
// run in the fast tier.
let daemon: FastDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

interface Signed {
  cookie: string;
  csrfToken: string;
}

async function signIn(body: Record<string, string>): Promise<Response> {
  return fetch(`${daemon.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function signedIn(token = daemon.token): Promise<Signed> {
  const res = await signIn({ token });
  expect(res.status).toBe(201);
  const { session } = (await res.json()) as { session: { csrfToken: string } };
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] as string, csrfToken: session.csrfToken };
}

async function newToken(role: string, extra: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const res = await daemon.api('/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role, ...extra }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

/** The HTTP status a WebSocket upgrade gets: 101 when it opens. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => resolve(0));
  });
}

async function tokenIds(): Promise<string[]> {
  const { tokens } = (await (await daemon.api('/v1/tokens')).json()) as { tokens: Array<{ id: string }> };
  return tokens.map((t) => t.id);
}

describe('web dashboard probes', () => {
  it('W1: a cross-site POST carrying the session cookie, without or with a forged X-CSRF-Token, changes nothing', async () => {
    const { cookie, csrfToken } = await signedIn();
    const before = await tokenIds();
    const post = (headers: Record<string, string>) =>
      fetch(`${daemon.url}/v1/tokens`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ role: 'admin' }),
      });
    for (const headers of [{}, { 'x-csrf-token': 'forged' }, { 'x-csrf-token': `${csrfToken.slice(0, -1)}A` }, { 'x-csrf-token': '' }]) {
      const res = await post(headers);
      expect(res.status).toBe(403);
      expect((await res.json()).error.code).toBe('csrf_failed');
    }
    // Another session's CSRF token is not this one's.
    const other = await signedIn();
    const crossed = await post({ 'x-csrf-token': other.csrfToken });
    expect((await crossed.json()).error.code).toBe('csrf_failed');
    // A page on another site, even with the right header, is refused by its Origin.
    const foreign = await post({ 'x-csrf-token': csrfToken, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await foreign.json()).error.code).toBe('forbidden_origin');
    // DELETE and PATCH are writes too.
    const kill = await fetch(`${daemon.url}/v1/sandboxes`, { method: 'DELETE', headers: { cookie } });
    expect((await kill.json()).error.code).toBe('csrf_failed');
    expect(await tokenIds()).toEqual(before);
    const own = await post({ 'x-csrf-token': csrfToken });
    expect(own.status).toBe(201);
  });

  it('W2: a cross-origin (or Origin-less) WebSocket carrying the session cookie is refused', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const proc = await sbx.commands.start(['sleep', '30']);
    const { cookie } = await signedIn();
    const url = `${daemon.url.replace('http', 'ws')}/v1/sandboxes/${sbx.id}/processes/${proc.pid}/attach`;
    expect(await upgradeStatus(url, { cookie, origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(url, { cookie, origin: 'null' })).toBe(403);
    expect(await upgradeStatus(url, { cookie })).toBe(403);
    expect(await upgradeStatus(url, { cookie, origin: daemon.url })).toBe(101);
    await sbx.kill();
  });

  it('W3: session fixation: a cookie value the client chose is never accepted, and signing in never adopts it', async () => {
    const chosen = 'A'.repeat(43);
    const asChosen = await fetch(`${daemon.url}/v1/whoami`, { headers: { cookie: `paddock_session=${chosen}` } });
    expect(asChosen.status).toBe(401);
    const res = await fetch(`${daemon.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `paddock_session=${chosen}` },
      body: JSON.stringify({ token: daemon.token }),
    });
    expect(res.status).toBe(201);
    const issued = (res.headers.get('set-cookie') ?? '').split(';')[0];
    expect(issued).not.toBe(`paddock_session=${chosen}`);
    expect((await fetch(`${daemon.url}/v1/whoami`, { headers: { cookie: `paddock_session=${chosen}` } })).status).toBe(401);
    expect((await fetch(`${daemon.url}/v1/whoami`, { headers: { cookie: issued as string } })).status).toBe(200);
  });

  it('W4: a session does not outlive its token: revoked, or expired', async () => {
    const operator = await newToken('operator');
    const { cookie } = await signedIn(operator.token);
    expect((await fetch(`${daemon.url}/v1/whoami`, { headers: { cookie } })).status).toBe(200);
    expect((await daemon.api(`/v1/tokens/${operator.id}`, { method: 'DELETE' })).status).toBe(200);
    const revoked = await fetch(`${daemon.url}/v1/whoami`, { headers: { cookie } });
    expect(revoked.status).toBe(401);

    const brief = await newToken('operator', { ttlMs: 1000 });
    const session = await signedIn(brief.token);
    const shown = (await (await fetch(`${daemon.url}/v1/sessions/current`, { headers: { cookie: session.cookie } })).json()) as {
      session: { expiresAt: string };
    };
    expect(Date.parse(shown.session.expiresAt)).toBeLessThanOrEqual(Date.now() + 1000);
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await fetch(`${daemon.url}/v1/whoami`, { headers: { cookie: session.cookie } });
    expect(expired.status).toBe(401);
    expect((await expired.json()).error.code).toBe('token_expired');
    // The revoked token cannot sign in again.
    expect((await signIn({ token: operator.token })).status).toBe(401);
  });

  it('W5: a one-time login code works once, even when two sign-ins race with it', async () => {
    const link = (await (await daemon.api('/v1/sessions/links', { method: 'POST' })).json()) as { url: string };
    const code = link.url.split('code=')[1] as string;
    const results = await Promise.all([signIn({ code }), signIn({ code }), signIn({ code })]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 401, 401]);
    expect((await signIn({ code })).status).toBe(401);
    expect((await signIn({ code: `${code.slice(0, -1)}x` })).status).toBe(401);
  });

  it('W10: a huge or malformed Cookie header gets a 4xx, never a crash or a session', async () => {
    const { cookie } = await signedIn();
    const malformed = [
      'paddock_session',
      'paddock_session=',
      'paddock_session="unterminated',
      'paddock_session=%zz%',
      `paddock_session=${'A'.repeat(43)}; paddock_session=${cookie.split('=')[1]}`,
      `junk=${'x'.repeat(8000)}; paddock_session=${'\u00ff'.repeat(43)}`,
      ';;;=;=;',
    ];
    for (const value of malformed) {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${daemon.url}/v1/whoami`, { headers: { cookie: value } }, (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(res.status, value.slice(0, 60)).toBeGreaterThanOrEqual(400);
      expect(res.status, value.slice(0, 60)).toBeLessThan(500);
      expect(JSON.parse(res.body).error.code).toBe('unauthorized');
    }
    // Past Node's header limit: refused by the server itself.
    const huge = await new Promise<number>((resolve) => {
      const req = request(`${daemon.url}/v1/whoami`, { headers: { cookie: `paddock_session=${'A'.repeat(64 * 1024)}` } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.end();
    });
    expect(huge).toBe(431);
    expect((await fetch(`${daemon.url}/v1/whoami`, { headers: { cookie } })).status).toBe(200);
  });
});
