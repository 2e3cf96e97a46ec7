import type { RequestListener, Server } from 'node:http';
import { getRequestListener, RequestError } from '@hono/node-server';
import { createNodeWebSocket } from '@hono/node-ws';
import { OpenAPIHono } from '@hono/zod-openapi';
import {
  BadRequestError,
  csrfHeaderName,
  ForbiddenHostError,
  ForbiddenOriginError,
  NotFoundError,
  PolicyDeniedError,
  paddockVersion,
  sessionCookieName,
  UnauthorizedError,
} from '@paddock/core';
import type { Context, Next } from 'hono';
import { getCookie } from 'hono/cookie';
import { requestId } from 'hono/request-id';
import type { Logger } from 'pino';
import { FailedAuthRecorder } from '../audit/failed-auth-recorder.js';
import { isExpired, type Principal, type TokenAuthenticator, tokenDigest } from '../auth/token-auth.js';
import { defaultE2bTemplates } from '../config/daemon-settings.js';
import { type E2bControlOptions, e2bBase, mountE2bControl } from '../e2b/control/e2b-control-routes.js';
import { e2bErrorShape } from '../e2b/control/e2b-errors.js';
import { EnvdKeyRing } from '../e2b/envd/envd-signing.js';
import { isEnvdRequest } from '../e2b/routing/e2b-route.js';
import type { SessionService } from '../sessions/session-service.js';
import { endSpan, type Telemetry } from '../telemetry/telemetry.js';
import { answerError, internalError, validationError } from './api-error.js';
import { isWebSocketRoute, registerAttachSocket } from './attach-socket.js';
import { isDashboardRequest, serveDashboard } from './dashboard-static.js';
import type { HttpEnv } from './http-env.js';
import { loadOnFirstUse } from './load-on-first-use.js';
import { mcpMaxBodyBytes, registerMcpRoute } from './mcp-route.js';
import { clientSignal, readJsonBody } from './node-request.js';
import { registerApprovalRoutes } from './routes/approval-routes.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerCodeRoutes } from './routes/code-routes.js';
import { registerCommandRoutes } from './routes/command-routes.js';
import { registerDesktopRoutes } from './routes/desktop-routes.js';
import { registerEventRoutes } from './routes/event-routes.js';
import { registerFileRoutes } from './routes/file-routes.js';
import { manifestSchemaPath, registerGatewayRoutes } from './routes/gateway-routes.js';
import { registerImageRoutes } from './routes/image-routes.js';
import { registerMetricsRoutes } from './routes/metrics-routes.js';
import { registerNetworkRoutes } from './routes/network-routes.js';
import { registerPolicyRoutes } from './routes/policy-routes.js';
import { registerPoolRoutes } from './routes/pool-routes.js';
import { registerPortRoutes } from './routes/port-routes.js';
import { registerRegistryRoutes } from './routes/registry-routes.js';
import { registerSandboxRoutes } from './routes/sandbox-routes.js';
import { registerSessionRoutes } from './routes/session-routes.js';
import { registerSystemRoutes } from './routes/system-routes.js';
import { registerTakeoverRoutes } from './routes/takeover-routes.js';
import { registerTemplateRoutes } from './routes/template-routes.js';
import { registerTenantRoutes } from './routes/tenant-routes.js';
import { registerVolumeRoutes } from './routes/volume-routes.js';
import type { Services } from './services.js';
import { registerVncSocket } from './vnc-socket.js';

export interface AppOptions {
  services: Services;
  auth: TokenAuthenticator;
  logger: Logger;
  /** Origins a browser may call from (the daemon's own). */
  allowedOrigins: () => string[];
  /**
   * Host names requests may be addressed to; undefined serves any (a daemon
   * listening beyond loopback). A loopback daemon answers only loopback names,
   * so a page that rebinds its own domain to 127.0.0.1 reaches nothing.
   */
  allowedHostNames?: readonly string[];
  telemetry: Telemetry;
  /** Dashboard sign-ins: the session cookie authenticates like the token it was made from. */
  sessions: SessionService;
  /** The daemon's own URL (login links point at it). */
  baseUrl: () => string;
  /** The built dashboard app served at /. */
  /** null: no dashboard is served. */
  dashboardDir: string | null;
  /** E2B's control plane under /e2b: template names and the sandboxes' domain (defaults: the E2B SDKs' template names, no domain). */
  e2b?: Pick<E2bControlOptions, 'templates' | 'sandboxDomain'>;
  /** Sandbox access tokens handed out or used, which E2B's signed file URLs are checked against. */
  envdKeys?: EnvdKeyRing;
}

export interface PaddockApp {
  app: OpenAPIHono<HttpEnv>;
  /** Wires WebSocket upgrades into a Node HTTP server serving this app. */
  injectWebSocket: (server: Server) => void;
  /** Ends what outlives a request (MCP sessions); before the daemon stops. */
  close: () => Promise<void>;
}

const publicPaths = new Set(['/v1/health', '/openapi.json', manifestSchemaPath]);

/** Signing in needs no token yet. */
function isPublicRoute(method: string, path: string): boolean {
  return method === 'POST' && path === '/v1/sessions';
}

export function createApp(options: AppOptions): PaddockApp {
  const { services, auth, logger } = options;
  const failedAuth = new FailedAuthRecorder(services.audit);
  // The access tokens E2B sandboxes are handed (create, connect) and used: signed file URLs are checked against them.
  const envdKeys = options.envdKeys ?? new EnvdKeyRing();
  const app = new OpenAPIHono<HttpEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues);
    },
  });
  const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app });

  const refuseExpired = (c: Context<HttpEnv>, principal: Principal) => {
    if (!isExpired(principal)) return;
    failedAuth.record({ requestId: c.get('requestId') ?? null, method: c.req.method, path: c.req.path, presented: true, expired: principal.id });
    throw new UnauthorizedError(`token ${principal.id} expired at ${principal.grant?.expiresAt}`, { expiresAt: principal.grant?.expiresAt }, 'token_expired');
  };

  /**
   * A request signed in by the session cookie: as its token, with two more
   * checks a browser needs. A write carries the session's CSRF token (a page on
   * another site can make the browser send the cookie, never read that token);
   * a WebSocket comes from the daemon's own origin (browsers do not apply
   * SameSite or CORS to upgrades the same way: the Origin header is what shows the page).
   */
  const signedInBySession = async (c: Context<HttpEnv>, cookie: string, webSocket: boolean, next: Next) => {
    const active = options.sessions.resolve(cookie);
    if (!active) {
      failedAuth.record({ requestId: c.get('requestId') ?? null, method: c.req.method, path: c.req.path, presented: true });
      throw new UnauthorizedError('the session is unknown, ended or expired; sign in again', {}, 'unauthorized');
    }
    refuseExpired(c, active.principal);
    if (webSocket || c.req.header('upgrade') !== undefined) {
      const origin = c.req.header('origin');
      if (!origin || !options.allowedOrigins().includes(origin)) throw new ForbiddenOriginError(origin ?? '(none)');
    } else if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && !options.sessions.csrfMatches(active, c.req.header(csrfHeaderName))) {
      throw new PolicyDeniedError(`a request signed in by the session cookie must carry the session's ${csrfHeaderName} header`, {}, 'csrf_failed');
    }
    c.set('principal', active.principal);
    c.set('tokenDigest', active.row.tokenDigest);
    c.set('session', active);
    await next();
  };

  app.use(requestId({ headerName: 'x-request-id' }));
  // Under /e2b every error, whatever raises it below, answers in E2B's shape.
  app.use(`${e2bBase}/*`, e2bErrorShape);
  app.use(async (c, next) => {
    const started = performance.now();
    c.set('logger', logger.child({ req: c.get('requestId') }));
    const span = options.telemetry.startSpan(`${c.req.method} ${c.req.path}`, {
      'http.request.method': c.req.method,
      'url.path': c.req.path,
      'paddock.request_id': c.get('requestId'),
    });
    c.set('span', span);
    c.set('signal', clientSignal(c));
    try {
      await next();
    } finally {
      span.setAttribute('http.route', c.req.routePath);
      span.setAttribute('http.response.status_code', c.res.status);
      span.updateName(`${c.req.method} ${c.req.routePath}`);
      endSpan(span, c.res.status >= 500 ? new Error(`HTTP ${c.res.status}`) : undefined);
    }
    logger.info(
      { req: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });

  app.use(async (c, next) => {
    const host = c.req.header('host');
    // An empty name would pass any check by name (probe D11). @hono/node-ws drops an empty
    // Host from an upgrade, and a real upgrade always has one; in-process requests have none.
    const named = host === undefined ? c.req.header('upgrade') === undefined : hostNameOf(host) !== '';
    if (!named) throw new BadRequestError('the Host header names no host', { host: host ?? null }, 'bad_host');
    if (host && options.allowedHostNames && !options.allowedHostNames.includes(hostNameOf(host))) throw new ForbiddenHostError(host);
    await next();
  });

  // Browsers send Origin; a page on another site must not drive the API (probe D9).
  app.use(async (c, next) => {
    const origin = c.req.header('origin');
    if (origin && !options.allowedOrigins().includes(origin)) throw new ForbiddenOriginError(origin);
    await next();
  });

  // E2B's in-sandbox protocol: requests naming a sandbox (E2b-Sandbox-Id) authenticate and are answered there.
  // Its Connect-RPC and protobuf code (~5 MiB resident) loads with the first such request.
  const envd = loadOnFirstUse("E2B's envd protocol", () =>
    import('../e2b/envd/envd-server.js').then(({ envdMiddleware }) => envdMiddleware({ services, auth, failedAuth, keys: envdKeys })),
  );
  app.use(async (c, next) => (isEnvdRequest(c.req) ? (await envd(c.get('logger')))(c, next) : next()));

  // The dashboard app: static files that need no token (the app signs in by itself), after the Host and Origin checks.
  app.use(async (c, next) => {
    if (options.dashboardDir === null || !isDashboardRequest(c.req.method, c.req.path, c.req.header('accept'))) return next();
    return serveDashboard(options.dashboardDir, c.req.method, c.req.path);
  });

  app.use(async (c, next) => {
    if (publicPaths.has(c.req.path) || isPublicRoute(c.req.method, c.req.path)) return next();
    const header = c.req.header('authorization');
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    // Browsers cannot set headers on WebSocket requests: allow the token as a query parameter there,
    // and only there: a URL ends up in logs and histories (probe D10).
    const webSocket = c.req.header('upgrade')?.toLowerCase() === 'websocket' && isWebSocketRoute(c.req.method, c.req.path);
    // The E2B SDKs send their API key (a Paddock token) as X-API-Key.
    const apiKey = c.req.path.startsWith(`${e2bBase}/`) ? c.req.header('x-api-key')?.trim() : undefined;
    const token = bearer ?? apiKey ?? (webSocket ? c.req.query('access_token') : undefined);
    const cookie = header === undefined && token === undefined ? getCookie(c, sessionCookieName) : undefined;
    if (cookie !== undefined) return signedInBySession(c, cookie, webSocket, next);
    // Digested once: it finds the token and is kept for the request.
    const digest = token ? tokenDigest(token) : undefined;
    const principal = digest === undefined ? undefined : auth.byDigest(digest);
    if (!principal) {
      // A signed-out dashboard asks for its session on every load: no credentials at all on that one
      // read is not an attempt to authenticate. A wrong cookie or token there still is (recorded above and here).
      const askingForSession = header === undefined && token === undefined && c.req.method === 'GET' && c.req.path === '/v1/sessions/current';
      if (!askingForSession) failedAuth.record({ requestId: c.get('requestId') ?? null, method: c.req.method, path: c.req.path, presented: !!token });
      throw new UnauthorizedError();
    }
    refuseExpired(c, principal);
    c.set('principal', principal);
    c.set('tokenDigest', digest as string);
    c.set('session', undefined);
    await next();
  });

  app.use(async (c, next) => {
    if (!(c.req.header('content-type') ?? '').includes('application/json')) return next();
    const max = c.req.path === '/v1/templates' ? services.limits.maxBuildContextBytes : c.req.path === '/mcp' ? mcpMaxBodyBytes : services.limits.maxJsonBytes;
    return readJsonBody(c, max, next);
  });

  registerSessionRoutes(app, { sessions: options.sessions, failedAuth, baseUrl: options.baseUrl });
  registerSystemRoutes(app, services);
  registerTenantRoutes(app, services);
  registerAuditRoutes(app, services);
  registerPolicyRoutes(app, services);
  registerApprovalRoutes(app, services);
  registerPoolRoutes(app, services);
  registerSandboxRoutes(app, services);
  registerCommandRoutes(app, services);
  registerCodeRoutes(app, services);
  registerFileRoutes(app, services);
  registerNetworkRoutes(app, services);
  registerPortRoutes(app, services);
  registerDesktopRoutes(app, services);
  registerTemplateRoutes(app, services);
  registerImageRoutes(app, services);
  registerRegistryRoutes(app, services);
  registerVolumeRoutes(app, services);
  registerGatewayRoutes(app, services);
  registerEventRoutes(app, services);
  registerMetricsRoutes(app, services);
  registerTakeoverRoutes(app, services);
  mountE2bControl(app, services, {
    templates: options.e2b?.templates ?? defaultE2bTemplates,
    sandboxDomain: options.e2b?.sandboxDomain ?? (() => null),
    handedOut: (sandboxId, token) => envdKeys.remember(sandboxId, token),
  });
  registerAttachSocket(app, services, upgradeWebSocket);
  registerVncSocket(app, services, upgradeWebSocket);
  const mcp = registerMcpRoute(app, services, auth, logger);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Paddock API', version: paddockVersion, description: 'Sandboxes for AI agents: create, run commands, move files, build templates.' },
    security: [{ bearer: [] }],
  });

  app.notFound((c) => c.json(new NotFoundError(`no route for ${c.req.method} ${c.req.path}`, {}, 'route_not_found').toJSON(), 404));

  app.onError(answerError);

  return { app, injectWebSocket: (server) => injectWebSocket(server), close: () => mcp.close() };
}

/**
 * The app as a Node request handler. A request whose Host names no host is
 * refused before the adapter makes a URL of it (probe D11); one the adapter
 * cannot make a Request of gets the API's error body, not an empty 400.
 */
export function nodeRequestListener(fetch: (request: Request) => Response | Promise<Response>): RequestListener {
  const listener = getRequestListener(fetch, { errorHandler: refusedRequest });
  return (req, res) => {
    if (hostNameOf(req.headers.host ?? '') !== '') return void listener(req, res);
    const body = JSON.stringify(new BadRequestError('the Host header names no host', { host: req.headers.host ?? null }, 'bad_host').toJSON());
    res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
  };
}

function refusedRequest(err: unknown): Response {
  const answer = err instanceof RequestError ? new BadRequestError(`request refused: ${err.message}`) : internalError(undefined);
  return Response.json(answer.toJSON(), { status: answer.status });
}

/** "example.com:7423" → "example.com"; "[::1]:7423" → "::1". */
function hostNameOf(hostHeader: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(hostHeader);
  if (bracketed?.[1]) return bracketed[1].toLowerCase();
  return (hostHeader.split(':')[0] ?? '').toLowerCase();
}
