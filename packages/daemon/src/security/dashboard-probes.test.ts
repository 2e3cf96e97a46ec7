import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';

// Section W of docs/security-probes.md: attacks on the web dashboard's sign-in
// and serving, through the HTTP API as a browser (or a page on another site
// driving one) would make them. They test the daemon's HTTP layer, so they
// run in the fast tier.
let daemon: FastDaemon;
let root: string;
let dist: string;

beforeAll(async () => {
  // The app's folder, with a secret beside it and links planted in it that point out.
  root = await mkdtemp(join(tmpdir(), 'paddock-dashboard-probes-'));
  dist = join(root, 'dist');
  await mkdir(join(dist, 'assets'), { recursive: true });
  await writeFile(join(root, 'secret.txt'), 'TOP-SECRET');
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(dist, 'assets', 'app-1a2b3c.js'), 'export {}');
  await symlink('/etc/passwd', join(dist, 'assets', 'passwd-1a2b3c.js'));
  await symlink(join(root, 'secret.txt'), join(dist, 'assets', 'secret-1a2b3c.js'));
  await symlink('/etc', join(dist, 'assets', 'etc'));
  execFileSync('mkfifo', [join(dist, 'assets', 'fifo-1a2b3c.js')]);
  daemon = await startFastDaemon(['--dashboard-dir', dist]);
});

afterAll(async () => {
  await daemon?.stop();
  await rm(root, { recursive: true, force: true });
});

/** A GET sent as written: no client-side normalizing of dots or escapes. */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${daemon.url}/`, { path, headers }, (r) => {
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

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
    for (const headers of [
      {} as Record<string, string>,
      { 'x-csrf-token': 'forged' },
      // One character off (a token that ends in A gets a B: 1 in 64 would otherwise be the real one).
      { 'x-csrf-token': `${csrfToken.slice(0, -1)}${csrfToken.endsWith('A') ? 'B' : 'A'}` },
      { 'x-csrf-token': '' },
    ]) {
      const res = await post(headers);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('csrf_failed');
    }
    // Another session's CSRF token is not this one's.
    const other = await signedIn();
    const crossed = await post({ 'x-csrf-token': other.csrfToken });
    expect(((await crossed.json()) as { error: { code: string } }).error.code).toBe('csrf_failed');
    // A page on another site, even with the right header, is refused by its Origin.
    const foreign = await post({ 'x-csrf-token': csrfToken, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('forbidden_origin');
    // A sandbox's own page (a port's host form) is same-site with a localhost daemon, so the browser sends the
    // cookie: its Origin is still not the daemon's.
    const port = new URL(daemon.url).port;
    const fromSandbox = await post({ 'x-csrf-token': csrfToken, origin: `http://8000-sb-0123456789ab.sandbox.localhost:${port}` });
    expect(((await fromSandbox.json()) as { error: { code: string } }).error.code).toBe('forbidden_origin');
    // DELETE and PATCH are writes too.
    const kill = await fetch(`${daemon.url}/v1/sandboxes`, { method: 'DELETE', headers: { cookie } });
    expect(((await kill.json()) as { error: { code: string } }).error.code).toBe('csrf_failed');
    expect(await tokenIds()).toEqual(before);
    const own = await post({ 'x-csrf-token': csrfToken });
    expect(own.status).toBe(201);
    // Login CSRF: a form another site posts (no JSON content type) signs nobody in.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const form = await fetch(`${daemon.url}/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: JSON.stringify({ token: daemon.token }),
      });
      expect(form.status, type).toBe(415);
      expect(form.headers.get('set-cookie'), type).toBeNull();
    }
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
    expect(((await expired.json()) as { error: { code: string } }).error.code).toBe('token_expired');
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

  it('W8: path traversal out of /assets (encoded, double-encoded, backslashes, NUL) reaches no file outside it', async () => {
    const paths = [
      '/assets/..%2f..%2fetc/passwd',
      '/assets/..%2fsecret.txt',
      '/assets/..%2F..%2Fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/assets/%252e%252e%252fsecret.txt',
      '/assets/..%5c..%5csecret.txt',
      '/assets/....//....//secret.txt',
      '/assets/%2fetc%2fpasswd',
      '/assets//etc/passwd',
      '/assets/app-1a2b3c.js%00../../secret.txt',
      '/assets/../../../etc/passwd',
      '/assets/../secret.txt',
      '/assets/.%2e/secret.txt',
      '/assets/etc/passwd',
      '/assets/%c0%ae%c0%ae/secret.txt',
    ];
    for (const path of paths) {
      for (const accept of ['*/*', 'text/html']) {
        const res = await rawGet(path, { accept });
        expect(res.body, path).not.toContain('TOP-SECRET');
        expect(res.body, path).not.toMatch(/root:.*:0:0:/);
        expect(res.status === 404 || res.status === 401 || res.status === 400 || res.body.includes('<title>app</title>'), `${path}: ${res.status}`).toBe(true);
      }
    }
    expect((await rawGet('/assets/app-1a2b3c.js')).status).toBe(200);
  });

  it('W9: symbolic links (and a FIFO) planted in the dashboard folder serve nothing', async () => {
    for (const name of ['passwd-1a2b3c.js', 'secret-1a2b3c.js', 'fifo-1a2b3c.js', 'etc']) {
      const res = await rawGet(`/assets/${name}`);
      expect(res.status, name).toBe(404);
      expect(res.body).not.toContain('TOP-SECRET');
    }
    // assets/ itself a link out, then index.html a link out.
    await rename(join(dist, 'assets'), join(root, 'assets-real'));
    await symlink(root, join(dist, 'assets'));
    try {
      expect((await rawGet('/assets/secret.txt')).status).toBe(404);
    } finally {
      await rm(join(dist, 'assets'));
      await rename(join(root, 'assets-real'), join(dist, 'assets'));
    }
    await rename(join(dist, 'index.html'), join(root, 'index-real.html'));
    await symlink(join(root, 'secret.txt'), join(dist, 'index.html'));
    try {
      const index = await rawGet('/');
      expect(index.status).toBe(404);
      expect(index.body).not.toContain('TOP-SECRET');
    } finally {
      await rm(join(dist, 'index.html'));
      await rename(join(root, 'index-real.html'), join(dist, 'index.html'));
    }
    expect((await rawGet('/')).status).toBe(200);
  });

  it("W6: an agent's token takes no sandbox over, and cannot type into, signal or attach to a person's takeover terminal", async () => {
    const agent = await newToken('agent');
    const sbx = await Sandbox.create({ ...daemon.conn });
    const asAgent = (path: string, body: unknown) =>
      fetch(`${daemon.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${agent.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await asAgent(`/v1/sandboxes/${sbx.id}/takeover`, {});
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('takeover_refused');
    // Signed in to the dashboard with its token, the agent is still an agent.
    const session = await signedIn(agent.token);
    const byCookie = await fetch(`${daemon.url}/v1/sandboxes/${sbx.id}/takeover`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(((await byCookie.json()) as { error: { code: string } }).error.code).toBe('takeover_refused');

    const { pid } = await sbx.takeover();
    const stdin = await asAgent(`/v1/sandboxes/${sbx.id}/processes/${pid}/stdin`, { data: 'echo pwned > /tmp/pwned\n' });
    expect(stdin.status).toBe(403);
    expect(((await stdin.json()) as { error: { code: string } }).error.code).toBe('terminal_read_only');
    const signal = await asAgent(`/v1/sandboxes/${sbx.id}/processes/${pid}/signal`, { signal: 'SIGKILL' });
    expect(((await signal.json()) as { error: { code: string } }).error.code).toBe('terminal_read_only');
    const url = `${daemon.url.replace('http', 'ws')}/v1/sandboxes/${sbx.id}/processes/${pid}/attach`;
    expect(await upgradeStatus(url, { authorization: `Bearer ${agent.token}` })).toBe(403);
    expect(await upgradeStatus(`${url}?mode=write`, { authorization: `Bearer ${agent.token}` })).toBe(400);
    const proc = (await (await daemon.api(`/v1/sandboxes/${sbx.id}/processes/${pid}`)).json()) as { state: string };
    expect(proc.state).toBe('running');
    expect((await sbx.getInfo()).control).toMatchObject({ mode: 'human', by: 'admin' });
    const { recording } = await sbx.handback();
    const cast = await sbx.recordings.get(recording.sessionId);
    expect(cast).not.toContain('pwned');
    await sbx.kill();
  });

  it('W7: a read-only viewer (mode=view) writes nothing to the terminal: input, EOF and signals are refused', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const { pid } = await sbx.takeover();
    const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/v1/sandboxes/${sbx.id}/processes/${pid}/attach?mode=view`, {
      headers: { authorization: `Bearer ${daemon.token}` },
    });
    const messages: Array<{ type: string; error?: { code: string } }> = [];
    ws.on('message', (data, binary) => {
      if (!binary) messages.push(JSON.parse(String(data)));
    });
    await new Promise((resolve) => ws.once('open', resolve));
    // Even the taker, attached as a viewer, is a viewer.
    ws.send(Buffer.from('echo viewer-wrote > /tmp/viewer\n'));
    ws.send(JSON.stringify({ type: 'eof' }));
    ws.send(JSON.stringify({ type: 'signal', signal: 'SIGKILL' }));
    ws.send(JSON.stringify({ type: 'resize', cols: 1, rows: 1 }));
    await expect.poll(() => messages.length, { timeout: 10_000 }).toBe(4);
    expect(messages.every((m) => m.type === 'error' && m.error?.code === 'terminal_read_only')).toBe(true);
    const proc = (await (await daemon.api(`/v1/sandboxes/${sbx.id}/processes/${pid}`)).json()) as { state: string };
    expect(proc.state).toBe('running');
    ws.close();
    const { recording } = await sbx.handback();
    const cast = await sbx.recordings.get(recording.sessionId);
    expect(cast).not.toContain('viewer-wrote');
    expect(cast.split('\n').filter((l) => l.includes('"i"'))).toEqual([]);
    await sbx.kill();
  });
});
