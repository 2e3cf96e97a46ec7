import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';
import { ManualClock } from '../testing/manual-clock.js';
import { runCli } from '../testing/run-cli.js';

// Dashboard sign-in as the API shows it: sessions made from a token or a
// login code, the cookie they travel in, CSRF on writes, logout, expiry, and
// a session ending with its token. The attacks on all this are in
// security/dashboard-probes.test.ts.
let daemon: FastDaemon;
const clock = new ManualClock();

beforeAll(async () => {
  daemon = await startFastDaemon(['--session-ttl', '1h'], {}, { clock });
});

afterAll(async () => {
  await daemon?.stop();
});

interface SessionBody {
  session: { principal: { id: string; role: string; tenantId: string; owner: string }; csrfToken: string; expiresAt: string };
}

/** Signs in as fetch would from the dashboard: no Authorization header, the body names the token or code. */
async function signIn(body: Record<string, string>): Promise<{ res: Response; cookie: string; session: SessionBody['session'] }> {
  const res = await fetch(`${daemon.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  const json = (await res.json()) as SessionBody;
  return { res, cookie, session: json.session };
}

const asSession = (cookie: string, init: RequestInit = {}) => ({ ...init, headers: { cookie, ...(init.headers as Record<string, string>) } });

async function newToken(role: string, extra: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const res = await daemon.api('/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role, ...extra }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

describe('dashboard sessions', () => {
  it('signs in with a token: an HttpOnly, SameSite=Strict cookie of 32 random bytes, and the principal it acts as', async () => {
    const { res, session } = await signIn({ token: daemon.token });
    expect(res.status).toBe(201);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^paddock_session=[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(session.principal).toEqual({ id: 'admin', role: 'admin', tenantId: 'default', owner: 'admin' });
    expect(session.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(session.expiresAt)).toBe(clock.now() + 3_600_000);
    // The token itself is never kept or echoed.
    expect(JSON.stringify(session)).not.toContain(daemon.token);
  });

  it('authenticates by cookie exactly as the token: reads freely, writes with the CSRF header', async () => {
    const agent = await newToken('agent');
    const { cookie, session } = await signIn({ token: agent.token });
    const whoami = await fetch(`${daemon.url}/v1/whoami`, asSession(cookie));
    expect(whoami.status).toBe(200);
    expect(((await whoami.json()) as { principal: string }).principal).toBe(agent.id);
    const current = await fetch(`${daemon.url}/v1/sessions/current`, asSession(cookie));
    expect(current.status).toBe(200);
    expect(((await current.json()) as SessionBody).session).toEqual(session);
    // An agent's rights, no more: listing tenants is an admin's.
    const tenants = await fetch(`${daemon.url}/v1/tenants`, asSession(cookie));
    expect(tenants.status).toBe(403);
    const pool = await fetch(
      `${daemon.url}/v1/pools`,
      asSession(cookie, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken }, body: '{}' }),
    );
    // Past CSRF, the request meets the API's own checks (the body is incomplete).
    expect(pool.status).toBe(400);
    expect(((await pool.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('signs out: the session ends and the cookie is cleared', async () => {
    const { cookie, session } = await signIn({ token: daemon.token });
    const out = await fetch(`${daemon.url}/v1/sessions/current`, asSession(cookie, { method: 'DELETE', headers: { 'x-csrf-token': session.csrfToken } }));
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^paddock_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict/);
    const after = await fetch(`${daemon.url}/v1/sessions/current`, asSession(cookie));
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('ends a session at its TTL (--session-ttl)', async () => {
    const { cookie } = await signIn({ token: daemon.token });
    clock.advance(3_599_000);
    expect((await fetch(`${daemon.url}/v1/whoami`, asSession(cookie))).status).toBe(200);
    clock.advance(1_000);
    const late = await fetch(`${daemon.url}/v1/whoami`, asSession(cookie));
    expect(late.status).toBe(401);
  });

  it('answers GET /v1/sessions/current with 401 to a bearer token (no session)', async () => {
    const res = await daemon.api('/v1/sessions/current');
    expect(res.status).toBe(401);
    expect((await res.json()).error.message).toContain('no session');
  });

  it('audits no failed authentication for a signed-out page asking for its session; a wrong cookie there still is one', async () => {
    type Records = { records: Array<{ action: string; resource: string; details: { token?: string } }> };
    const failures = async () =>
      ((await (await daemon.api('/v1/audit?limit=10000')).json()) as Records).records.filter(
        (r) => r.action === 'auth.authenticate' && r.resource === 'http:/v1/sessions/current',
      );
    const before = (await failures()).length;
    // What the dashboard asks on every load before anyone has signed in: no cookie, no token.
    const signedOut = await fetch(`${daemon.url}/v1/sessions/current`);
    expect(signedOut.status).toBe(401);
    expect((await failures()).length).toBe(before);
    // Any other route without credentials is still a refused authentication worth a record…
    expect((await fetch(`${daemon.url}/v1/whoami`)).status).toBe(401);
    // …and so is a cookie that names no session, on this route too.
    const wrong = await fetch(`${daemon.url}/v1/sessions/current`, asSession('paddock_session=not-a-session'));
    expect(wrong.status).toBe(401);
    const after = await failures();
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)?.details.token).toBe('invalid');
  });

  it('refuses a wrong token with 401 and audits the failed sign-in', async () => {
    const { res } = await signIn({ token: 'pdk_not-a-token' });
    expect(res.status).toBe(401);
    const audit = (await (await daemon.api('/v1/audit?limit=10000')).json()) as { records: Array<{ action: string; resource: string; decision: string }> };
    expect(audit.records.some((r) => r.action === 'auth.authenticate' && r.resource === 'http:/v1/sessions' && r.decision === 'deny')).toBe(true);
    expect(audit.records.some((r) => r.action === 'session.create' && r.decision === 'allow')).toBe(true);
    const neither = await fetch(`${daemon.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(neither.status).toBe(400);
  });

  it('makes a one-time login link for the caller (paddock dashboard), its code in the fragment', async () => {
    const agent = await newToken('agent');
    const cli = await runCli(['dashboard'], { env: { ...daemon.env, PADDOCK_TOKEN: agent.token } });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const url = cli.stdout.trim();
    expect(url).toMatch(new RegExp(`^${daemon.url}/#/login\\?code=[A-Za-z0-9_-]{43}$`));
    const code = new URL(url).hash.split('code=')[1] as string;
    const { res, session } = await signIn({ code });
    expect(res.status).toBe(201);
    expect(session.principal.id).toBe(agent.id);
  });

  it('lets a login code expire after two minutes', async () => {
    const link = (await (await daemon.api('/v1/sessions/links', { method: 'POST' })).json()) as { url: string; expiresAt: string };
    expect(Date.parse(link.expiresAt)).toBe(clock.now() + 120_000);
    clock.advance(120_000);
    const { res } = await signIn({ code: link.url.split('code=')[1] as string });
    expect(res.status).toBe(401);
  });
});
