import { EventEmitter } from 'node:events';
import { rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { ConflictError, PaddockError, paddockVersion } from '@paddock/core';
import type { Logger } from 'pino';
import { FailedAuthRecorder } from '../audit/failed-auth-recorder.js';
import { TokenAuthenticator } from '../auth/token-auth.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { e2bRouteOf, sandboxIdHeader, sandboxPortHeader } from '../e2b/routing/e2b-route.js';
import { createApp, nodeRequestListener } from '../http/app.js';
import { IngressGate } from '../ingress/ingress-gate.js';
import { IngressProxy } from '../ingress/ingress-proxy.js';
import { IngressRecords } from '../ingress/ingress-records.js';
import { SessionService } from '../sessions/session-service.js';
import type { DaemonParts } from './create-services.js';
import type { ShutdownSteps } from './shutdown-steps.js';

/** What `paddock` and tests read to find a daemon: written once it listens. */
export interface Endpoint {
  url: string;
  socket: string;
  pid: number;
  version: string;
}

/** The API's address is taken (another paddockd, or any other program): said in one line, naming it. */
export class PortInUseError extends ConflictError {
  constructor(host: string, port: number) {
    super(`${host}:${port} is already in use; stop what listens there or give --port another`, { host, port }, 'port_in_use');
  }
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1']);

/** Serves the API on the TCP port and the unix socket, then writes the endpoint file; returns the URL. */
export async function serveApi(config: DaemonConfig, parts: DaemonParts, { logger, shutdown }: { logger: Logger; shutdown: ShutdownSteps }): Promise<string> {
  const origins: string[] = [];
  const auth = new TokenAuthenticator(parts.token, parts.tokenStore, config.adminOwner);
  const sessions = new SessionService({
    store: parts.sessionStore,
    auth,
    audit: parts.services.audit,
    clock: parts.clock,
    ttlMs: config.sessionTtlMs,
  });
  const {
    app,
    injectWebSocket,
    close: closeApp,
  } = createApp({
    services: parts.services,
    auth,
    sessions,
    baseUrl: () => parts.listening.url,
    dashboardDir: config.dashboardDir,
    envdKeys: parts.envdKeys,
    logger,
    allowedOrigins: () => origins,
    telemetry: parts.telemetry,
    allowedHostNames: loopbackHosts.has(config.host) ? [...loopbackHosts] : undefined,
    e2b: { templates: config.e2bTemplates, sandboxDomain: () => sandboxDomain(config.ingressDomain, parts.listening.url) },
  });
  shutdown.add('mcp-sessions', closeApp);
  const ingress = createIngress(config, parts, {
    logger,
    allowedOrigins: () => origins,
    allowedHostNames: loopbackHosts.has(config.host) ? [...loopbackHosts] : undefined,
  });
  shutdown.add('listeners', () => ingress.closeAll());
  // A desktop's ports that take input are the taker's only while they hold the sandbox: a change of hands ends their connections.
  parts.services.takeovers.onChange((id) => ingress.closeControl(id));
  const api = nodeRequestListener(app.fetch);
  // A sandbox's port first: its host names are never the API's, and its path form streams past the app.
  const listener: RequestListener = (req, res) => {
    if (routeE2b(req, res, ingress, parts, api)) return;
    if (!ingress.handleRequest(req, res)) api(req, res);
  };
  // Clients close idle connections first (fetch's undici after 4 s): a server that
  // closes first (Node's default, 5 s) races a request being sent on one, which fails.
  const serverOptions = { keepAliveTimeout: 30_000 };
  // With the operator's certificate the TCP listener is HTTPS alone (a plain request there fails its
  // handshake); the unix socket, reached only through the state folder's permissions, stays plain.
  const tcp = config.tls
    ? createHttpsServer({ ...serverOptions, cert: config.tls.cert, key: config.tls.key }, listener)
    : createServer(serverOptions, listener);
  const unix = createServer(serverOptions, listener);
  injectUpgrades(tcp, ingress, injectWebSocket);
  injectUpgrades(unix, ingress, injectWebSocket);
  shutdown.add('listeners', () => close(tcp));
  shutdown.add('listeners', () => close(unix));
  await listen(tcp, () => tcp.listen(config.port, config.host)).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EADDRINUSE' ? new PortInUseError(config.host, config.port) : err;
  });
  await rm(config.socketPath, { force: true });
  await listen(unix, () => unix.listen(config.socketPath));
  const address = tcp.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const scheme = config.tls ? 'https' : 'http';
  const url = `${scheme}://${config.host}:${port}`;
  parts.listening.url = url;
  origins.push(url, `${scheme}://localhost:${port}`);
  const endpoint: Endpoint = { url, socket: config.socketPath, pid: process.pid, version: paddockVersion };
  // Written whole and renamed, so readers never see half a file.
  const endpointFile = join(config.stateDir, 'endpoint.json');
  shutdown.add('endpoint-file', () => rm(endpointFile, { force: true }));
  await writeFile(`${endpointFile}.tmp`, JSON.stringify(endpoint), { mode: 0o600 });
  await rename(`${endpointFile}.tmp`, endpointFile);
  logger.info({ url, socket: config.socketPath }, 'paddockd listening');
  return url;
}

/**
 * E2B's two ways of naming a sandbox and port. Envd (49983) and the code
 * interpreter (49999) are the daemon's own: a `<port>-<id>.<domain>` host
 * for them becomes the header form on the API's own host, which the app
 * answers. Any other port is the sandbox's own server, through ingress.
 * False: not an E2B request.
 */
function routeE2b(req: IncomingMessage, res: ServerResponse, ingress: IngressProxy, parts: DaemonParts, api: RequestListener): boolean {
  let route: ReturnType<typeof e2bRouteOf>;
  try {
    route = e2bRouteOf(req.headers, req.url ?? '/', parts.services.ports.addresses);
  } catch (err) {
    const e = err instanceof PaddockError ? err : new PaddockError('bad_request', 400, 'not a sandbox address');
    const body = JSON.stringify(e.toJSON());
    res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    return true;
  }
  if (!route) return false;
  if (route.kind === 'port') {
    ingress.serveTarget(route.target, req, res);
    return true;
  }
  if (req.headers[sandboxIdHeader] === undefined) {
    // The app reads rawHeaders: the host form becomes the header form on the API's own host.
    const host = new URL(parts.listening.url).host;
    const raw: string[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] as string;
      if (name.toLowerCase() !== 'host') raw.push(name, req.rawHeaders[i + 1] as string);
    }
    raw.push('host', host, sandboxIdHeader, route.sandboxId, sandboxPortHeader, route.kind === 'envd' ? '49983' : '49999');
    req.rawHeaders.splice(0, req.rawHeaders.length, ...raw);
    req.headers.host = host;
    req.headers[sandboxIdHeader] = route.sandboxId;
  }
  api(req, res);
  return true;
}

/** Ingress on the API's listener: the gate, the connection records and the proxy, over the daemon's parts. */
function createIngress(
  config: DaemonConfig,
  parts: DaemonParts,
  options: { logger: Logger; allowedOrigins: () => string[]; allowedHostNames?: readonly string[] },
): IngressProxy {
  const { services } = parts;
  const records = new IngressRecords(services.audit, options.logger);
  const gate = new IngressGate({
    auth: new TokenAuthenticator(parts.token, parts.tokenStore, config.adminOwner),
    sandboxes: services.sandboxes,
    ports: services.ports,
    authorizer: services.policy,
    records,
    failedAuth: new FailedAuthRecorder(services.audit),
    controlOf: (id) => services.takeovers.controlOf(id),
  });
  return new IngressProxy({
    addresses: services.ports.addresses,
    gate,
    records,
    engine: parts.engine,
    splice: parts.splice,
    dialer: parts.dialer,
    logger: options.logger,
    allowedOrigins: options.allowedOrigins,
    allowedHostNames: options.allowedHostNames,
  });
}

/**
 * Upgrades go to a sandbox's port first, then to the API's WebSockets. The
 * app's handler answers every upgrade it gets (refusing those it has no
 * route for), so it is given only what ingress leaves.
 */
function injectUpgrades(server: Server, ingress: IngressProxy, injectWebSocket: (server: Server) => void): void {
  const api = new EventEmitter();
  injectWebSocket(api as Server);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!ingress.handleUpgrade(req, socket, head)) api.emit('upgrade', req, socket, head);
  });
}

function listen(server: Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    start();
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/**
 * The domain E2B's SDKs put sandbox hosts under (<port>-<id>.<domain>): the
 * ingress domain, with the listener's port when it is not the scheme's own,
 * so that getHost(port) names an address that answers.
 */
function sandboxDomain(ingressDomain: string, apiUrl: string): string {
  const url = new URL(apiUrl);
  return url.port ? `${ingressDomain}:${url.port}` : ingressDomain;
}
