import { ServerResponse } from 'node:http';
import type { DescMessage, DescMethodServerStreaming, DescService } from '@bufbuild/protobuf';
import { createConnectRouter, createContextValues } from '@connectrpc/connect';
import { type UniversalHandler, universalServerRequestFromFetch, universalServerResponseToFetch } from '@connectrpc/connect/protocol';
import { BadRequestError, NotFoundError, SandboxNotFoundError, UnauthorizedError } from '@paddock/core';
import type { Context, MiddlewareHandler } from 'hono';
import type { FailedAuthRecorder } from '../../audit/failed-auth-recorder.js';
import { isExpired, type Principal, type TokenAuthenticator, tokenDigest } from '../../auth/token-auth.js';
import { answerError } from '../../http/api-error.js';
import type { HttpEnv } from '../../http/http-env.js';
import type { Services } from '../../http/services.js';
import { IngressAddresses } from '../../ingress/ingress-address.js';
import { codeInterpreterPort, envdPort, isEnvdRequest, sandboxIdHeader, sandboxPortHeader } from '../routing/e2b-route.js';
import { serveCodeInterpreter } from './code-interpreter-protocol.js';
import { ConnectStreamWriter, type NodeExchange } from './connect-stream-writer.js';
import { defaultEnvdUser, type EnvdCall, envdCallKey, runningSandbox, toConnectError } from './envd-call.js';
import { downloadFile, uploadFiles } from './envd-files.js';
import type { EnvdKeyRing, SignedOperation } from './envd-signing.js';
import { filesystemService } from './filesystem-service.js';
import { Filesystem } from './gen/filesystem/filesystem_pb.js';
import { Process } from './gen/process/process_pb.js';
import { processService } from './process-service.js';

/** A Connect message (JSON or binary) the daemon reads; the SDKs send a few KiB. */
const maxMessageBytes = 4 * 1024 * 1024;

export interface EnvdServerDeps {
  services: Services;
  auth: TokenAuthenticator;
  failedAuth: FailedAuthRecorder;
  keys: EnvdKeyRing;
}

/**
 * E2B's in-sandbox protocol, served by the daemon for every sandbox: a
 * request that names its sandbox (the `E2b-Sandbox-Id` header, which the
 * listener also sets for `49983-<id>.<domain>` hosts) is answered here and
 * goes no further into the API. It authenticates as the rest of the API does
 * (a Paddock token, in X-Access-Token as the SDKs send it, or Authorization:
 * Bearer), or by a signed file URL; then each operation is the governed
 * action of its native route. Connect-RPC is served with the maintained
 * library's handlers over the app's fetch Request, so the request keeps the
 * app's request id, logging and error handling.
 */
export function envdMiddleware(deps: EnvdServerDeps): MiddlewareHandler<HttpEnv> {
  const router = createConnectRouter({ readMaxBytes: maxMessageBytes });
  const processes = processService(deps.services);
  const files = filesystemService(deps.services);
  router.service(Process, processes);
  router.service(Filesystem, files);
  const rpc = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));
  const streams = streamWriters([
    [Process, processes],
    [Filesystem, files],
  ]);

  return async (c, next) => {
    if (!isEnvdRequest(c.req)) return next();
    const named = c.req.header(sandboxIdHeader);
    const handler = rpc.get(c.req.path);
    const port = Number(c.req.header(sandboxPortHeader) ?? envdPort);
    let call: EnvdCall;
    try {
      call = admit(deps, c, named, port);
    } catch (err) {
      // A sandbox's access token ends with it: its health check then says "gone" (what the SDKs' isRunning() reads), not "who are you".
      if (isHealthCheck(c) && named !== undefined && !deps.services.sandboxes.isLive(named)) return c.text('sandbox not running', 502);
      // A Connect client reads a refusal in Connect's own shape (a stream's in its end message): the handler answers it.
      if (!handler || port !== envdPort) return answerEnvdError(err, c);
      call = { c, sandboxId: named ?? '', user: defaultEnvdUser, refused: err };
    }
    if (handler && port === envdPort) {
      if (c.req.method !== 'POST') throw new BadRequestError('Connect calls are POSTs', {}, 'bad_request');
      const writer = streams.get(c.req.path);
      const node = nodeExchangeOf(c);
      if (writer && node && writer.accepts(node.incoming)) {
        const refusal = call.refused === undefined ? undefined : toConnectError(call.refused);
        await writer.serve(node, createContextValues().set(envdCallKey, call), c.res.headers, refusal);
        return alreadySent();
      }
      const request = { ...universalServerRequestFromFetch(c.req.raw, {}), contextValues: createContextValues().set(envdCallKey, call) };
      return universalServerResponseToFetch(await handler(request));
    }
    try {
      return await (port === codeInterpreterPort ? serveCodeInterpreter(deps.services, c, call) : serveHttp(deps, c, call));
    } catch (err) {
      return answerEnvdError(err, c);
    }
  };
}

/** The server-streaming methods of the services, by request path, each with its writer straight onto Node's response. */
function streamWriters(services: [DescService, object][]): Map<string, ConnectStreamWriter<DescMessage, DescMessage>> {
  const writers = new Map<string, ConnectStreamWriter<DescMessage, DescMessage>>();
  for (const [service, impl] of services) {
    for (const method of service.methods) {
      if (method.methodKind !== 'server_streaming') continue;
      const fn = (impl as Record<string, unknown>)[method.localName];
      if (typeof fn !== 'function') continue;
      writers.set(
        `/${service.typeName}/${method.name}`,
        new ConnectStreamWriter({ method: method as DescMethodServerStreaming, impl: fn.bind(impl) }, maxMessageBytes),
      );
    }
  }
  return writers;
}

/** Node's request and response, which @hono/node-server gives the app as its env (app.request() gives none). */
function nodeExchangeOf(c: Context<HttpEnv>): NodeExchange | undefined {
  const env = c.env as Partial<NodeExchange> | undefined;
  return env?.incoming && env.outgoing instanceof ServerResponse ? (env as NodeExchange) : undefined;
}

/** What the app returns for a response already written to Node's: @hono/node-server then leaves it alone. */
function alreadySent(): Response {
  return new Response(null, { status: 200, headers: { 'x-hono-already-sent': 'true' } });
}

/** Who calls, on which sandbox, as which user; throws when the request may not be served at all. */
function admit(deps: EnvdServerDeps, c: Context<HttpEnv>, named: string | undefined, port: number): EnvdCall {
  if (port !== envdPort && port !== codeInterpreterPort) {
    throw new BadRequestError(`port ${port} of a sandbox is reached through its host (<port>-<id>.<domain>), not here`, { port }, 'invalid_port');
  }
  if (named !== undefined && !IngressAddresses.isSandboxId(named)) throw new SandboxNotFoundError(named);
  const signed = signedFileRequest(deps, c, named);
  const sandboxId = signed?.sandboxId ?? (named as string);
  if (!signed) authenticate(deps, c, sandboxId);
  // A signed URL acts for the user it was signed for, whatever else the request says.
  return { c, sandboxId, user: signed ? c.req.query('username') || defaultEnvdUser : userOf(c) };
}

/**
 * envd's HTTP errors carry `{ code: <status>, message }`, which the SDKs
 * show; the API's `error` object goes along for clients that read it. The
 * API's error handler makes the answer (it also reads a refused upload's
 * rest, and logs a bug).
 */
async function answerEnvdError(err: unknown, c: Context<HttpEnv>): Promise<Response> {
  const answer = await answerError(err instanceof Error ? err : new Error(String(err)), c);
  const body = (await answer.json()) as { error: { code: string; message: string } };
  return Response.json(
    { code: answer.status, message: `${body.error.code}: ${body.error.message}`, ...body },
    { status: answer.status, headers: answer.headers },
  );
}

async function serveHttp(deps: EnvdServerDeps, c: Context<HttpEnv>, call: EnvdCall): Promise<Response> {
  const sandboxId = call.sandboxId;
  if (c.req.path === '/health' && c.req.method === 'GET') {
    try {
      runningSandbox(deps.services, call);
      return c.body(null, 204);
    } catch {
      // What envd's proxy answers for a sandbox that is gone: the SDK's isRunning() reads it as false.
      return c.text('sandbox not running', 502);
    }
  }
  if (c.req.path === '/files' && c.req.method === 'GET') return downloadFile(deps.services, c, call);
  if (c.req.path === '/files' && c.req.method === 'POST') return uploadFiles(deps.services, c, call);
  if (c.req.path === '/envs' && c.req.method === 'GET') {
    const sandbox = await deps.services.govern(c, { action: 'sandbox.get', resource: `sandbox:${sandboxId}` }, async () => runningSandbox(deps.services, call));
    return c.json(sandbox.env, 200);
  }
  throw new NotFoundError(`no envd route for ${c.req.method} ${c.req.path}`, {}, 'route_not_found');
}

function isHealthCheck(c: Context<HttpEnv>): boolean {
  return c.req.path === '/health' && c.req.method === 'GET';
}

/** The token the SDKs send (X-Access-Token, or the traffic token the code-interpreter SDK sends on context calls), or a bearer. */
function presentedToken(c: Context<HttpEnv>): string | undefined {
  const header = c.req.header('authorization');
  const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  return c.req.header('x-access-token') ?? c.req.header('e2b-traffic-access-token') ?? bearer;
}

function authenticate(deps: EnvdServerDeps, c: Context<HttpEnv>, sandboxId: string): void {
  const token = presentedToken(c);
  const principal = deps.auth.authenticate(token);
  if (!principal || !token) {
    deps.failedAuth.record({ requestId: c.get('requestId') ?? null, method: c.req.method, path: `e2b:${sandboxId}${c.req.path}`, presented: !!token });
    throw new UnauthorizedError('a Paddock token for this sandbox is needed (X-Access-Token: the envdAccessToken of Sandbox.create)');
  }
  if (isExpired(principal)) {
    deps.failedAuth.record({ requestId: c.get('requestId') ?? null, method: c.req.method, path: c.req.path, presented: true, expired: principal.id });
    throw new UnauthorizedError(`token ${principal.id} expired at ${principal.grant?.expiresAt}`, { expiresAt: principal.grant?.expiresAt }, 'token_expired');
  }
  setPrincipal(c, principal, token);
  // Only a token that may see the sandbox signs its file URLs; one already kept for it was checked when it was kept.
  if (deps.keys.holds(sandboxId, token)) {
    deps.keys.remember(sandboxId, token);
    return;
  }
  try {
    deps.services.sandboxes.get(principal.tenant, sandboxId);
    deps.keys.remember(sandboxId, token);
  } catch {
    // Not this tenant's sandbox: the call itself answers not found.
  }
}

/**
 * A file URL signed by the SDK (`uploadUrl`/`downloadUrl`): it carries no
 * token, only a signature made with one. It acts as the token that signed it,
 * for that path, operation and user alone.
 */
function signedFileRequest(deps: EnvdServerDeps, c: Context<HttpEnv>, named: string | undefined): { sandboxId: string } | undefined {
  const sig = c.req.query('signature');
  if (sig === undefined) return undefined;
  if (c.req.path !== '/files' || (c.req.method !== 'GET' && c.req.method !== 'POST'))
    throw new BadRequestError('only /files URLs are signed', {}, 'bad_request');
  const operation: SignedOperation = c.req.method === 'GET' ? 'read' : 'write';
  const expiry = c.req.query('signature_expiration');
  const expiration = expiry === undefined ? undefined : Number(expiry);
  if (expiration !== undefined && !Number.isInteger(expiration)) throw new BadRequestError('signature_expiration is unix seconds', {}, 'bad_request');
  const path = c.req.query('path') ?? '';
  // Signed for no path, a URL would let its holder name any file (in a multipart part's name).
  if (!path) throw new BadRequestError('a signed file URL names its file (?path=)', {}, 'bad_request');
  const request = { path, operation, user: c.req.query('username') ?? '', signature: sig, expiration };
  const found = deps.keys.verify(request, named);
  const principal = found ? deps.auth.authenticate(found.token) : undefined;
  if (!found || !principal || isExpired(principal)) {
    deps.failedAuth.record({ requestId: c.get('requestId') ?? null, method: c.req.method, path: '/files (signed)', presented: true });
    throw new UnauthorizedError('the URL signature does not match this sandbox, path, operation and user, or it expired', {}, 'unauthorized');
  }
  setPrincipal(c, principal, found.token);
  return { sandboxId: found.sandboxId };
}

function setPrincipal(c: Context<HttpEnv>, principal: Principal, token: string): void {
  c.set('principal', principal);
  c.set('tokenDigest', tokenDigest(token));
  c.set('session', undefined);
}

/** The sandbox user a call names: `Authorization: Basic <user:>` (the SDKs' way) or ?username=; envd's default otherwise. */
function userOf(c: Context<HttpEnv>): string {
  const header = c.req.header('authorization');
  let user = c.req.query('username');
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    user = decoded.split(':')[0];
  }
  if (!user) return defaultEnvdUser;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(user)) throw new BadRequestError('a user is a name or a uid', { user: user.slice(0, 64) }, 'bad_request');
  return user;
}
