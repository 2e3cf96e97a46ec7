import { rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { ConflictError, paddockVersion } from '@paddock/core';
import type { Logger } from 'pino';
import { TokenAuthenticator } from '../auth/token-auth.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { createApp, nodeRequestListener } from '../http/app.js';
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
  const {
    app,
    injectWebSocket,
    close: closeApp,
  } = createApp({
    services: parts.services,
    auth: new TokenAuthenticator(parts.token, parts.tokenStore, config.adminOwner),
    logger,
    allowedOrigins: () => origins,
    telemetry: parts.telemetry,
    allowedHostNames: loopbackHosts.has(config.host) ? [...loopbackHosts] : undefined,
  });
  shutdown.add('mcp-sessions', closeApp);
  const listener = nodeRequestListener(app.fetch);
  // Clients close idle connections first (fetch's undici after 4 s): a server that
  // closes first (Node's default, 5 s) races a request being sent on one, which fails.
  const serverOptions = { keepAliveTimeout: 30_000 };
  const tcp = createServer(serverOptions, listener);
  const unix = createServer(serverOptions, listener);
  injectWebSocket(tcp);
  injectWebSocket(unix);
  shutdown.add('listeners', () => close(tcp));
  shutdown.add('listeners', () => close(unix));
  await listen(tcp, () => tcp.listen(config.port, config.host)).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EADDRINUSE' ? new PortInUseError(config.host, config.port) : err;
  });
  await rm(config.socketPath, { force: true });
  await listen(unix, () => unix.listen(config.socketPath));
  const address = tcp.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  origins.push(url, `http://localhost:${port}`);
  const endpoint: Endpoint = { url, socket: config.socketPath, pid: process.pid, version: paddockVersion };
  // Written whole and renamed, so readers never see half a file.
  const endpointFile = join(config.stateDir, 'endpoint.json');
  shutdown.add('endpoint-file', () => rm(endpointFile, { force: true }));
  await writeFile(`${endpointFile}.tmp`, JSON.stringify(endpoint), { mode: 0o600 });
  await rename(`${endpointFile}.tmp`, endpointFile);
  logger.info({ url, socket: config.socketPath }, 'paddockd listening');
  return url;
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
