import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { csrfHeaderName, SessionCreateSchema, SessionLinkSchema, SessionResponseSchema, sessionCookieName, UnauthorizedError } from '@paddock/core';
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { FailedAuthRecorder } from '../../audit/failed-auth-recorder.js';
import type { SessionService } from '../../sessions/session-service.js';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json } from '../schemas.js';

const tags = ['sessions'];
const SessionResponse = SessionResponseSchema.meta({ id: 'SessionResponse' });
const SessionCreateRequest = SessionCreateSchema.meta({ id: 'SessionCreate' });
const SessionLinkResponse = SessionLinkSchema.meta({ id: 'SessionLink' });

const routes = {
  create: createRoute({
    method: 'post',
    path: '/v1/sessions',
    tags,
    security: [],
    summary: 'Sign in (the dashboard): a token or a login code in, an HttpOnly session cookie out',
    description:
      `Answers with \`Set-Cookie: ${sessionCookieName}=…; HttpOnly; SameSite=Strict; Path=/\`. A request carrying that cookie (and no Authorization header) ` +
      `acts as the token the session was made from; one that is not GET or HEAD must also carry \`${csrfHeaderName}\` with the session's csrfToken. ` +
      'The session ends at its expiry, at logout, or when its token is revoked or expires.',
    request: { body: { content: { 'application/json': { schema: SessionCreateRequest } }, required: true } },
    responses: { 201: json(SessionResponse, 'signed in; the cookie is set'), ...errorResponses },
  }),
  current: createRoute({
    method: 'get',
    path: '/v1/sessions/current',
    tags,
    summary: 'The session the cookie names (401 when none)',
    responses: { 200: json(SessionResponse, 'the session'), ...errorResponses },
  }),
  end: createRoute({
    method: 'delete',
    path: '/v1/sessions/current',
    tags,
    summary: 'Sign out: ends the session and clears its cookie',
    responses: { 204: { description: 'signed out' }, ...errorResponses },
  }),
  link: createRoute({
    method: 'post',
    path: '/v1/sessions/links',
    tags,
    summary: "A one-time sign-in link for the caller's own token, valid 2 minutes (paddock dashboard)",
    description: 'The code is in the URL fragment, which a browser never sends to a server; the dashboard reads it and posts it to /v1/sessions.',
    responses: { 201: json(SessionLinkResponse, 'the link'), ...errorResponses },
  }),
};

export interface SessionRouteDeps {
  sessions: SessionService;
  failedAuth: FailedAuthRecorder;
  /** The daemon's own URL, that login links point at. */
  baseUrl: () => string;
}

export function registerSessionRoutes(app: OpenAPIHono<HttpEnv>, { sessions, failedAuth, baseUrl }: SessionRouteDeps): void {
  app.openapi(routes.create, async (c) => {
    const body = c.req.valid('json');
    const requestId = c.get('requestId') ?? null;
    let signedIn: ReturnType<SessionService['signIn']>;
    try {
      signedIn = sessions.signIn(body, requestId);
    } catch (err) {
      failedAuth.record({ requestId, method: c.req.method, path: c.req.path, presented: true });
      throw err;
    }
    const maxAge = sessions.maxAgeSeconds(signedIn.session);
    setCookie(c, sessionCookieName, signedIn.secret, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge, secure: overTls(c) });
    return c.json({ session: signedIn.session }, 201);
  });

  app.openapi(routes.current, async (c) => {
    const active = c.get('session');
    if (!active) throw noSession();
    return c.json({ session: sessions.view(active) }, 200);
  });

  app.openapi(routes.end, async (c) => {
    const active = c.get('session');
    if (!active) throw noSession();
    sessions.end(active, c.get('requestId') ?? null);
    deleteCookie(c, sessionCookieName, { path: '/', httpOnly: true, sameSite: 'Strict', secure: overTls(c) });
    return c.body(null, 204);
  });

  app.openapi(routes.link, async (c) => {
    const { code, expiresAt } = sessions.createCode(c.get('tokenDigest'));
    return c.json({ url: `${baseUrl()}/#/login?code=${code}`, expiresAt }, 201);
  });
}

/** The request came over TLS (a TLS-terminating listener in front, or a future HTTPS one): the cookie is then Secure. */
function overTls(c: Context<HttpEnv>): boolean {
  return new URL(c.req.url).protocol === 'https:';
}

function noSession(): UnauthorizedError {
  return new UnauthorizedError('no session: this request was not signed in with the session cookie');
}
