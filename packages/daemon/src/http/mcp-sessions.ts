import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { cancelledIds, createPaddockMcp, type DirectCall, DirectCalls, type PaddockMcp, PendingWork, type ToolBackend } from '@paddock/mcp';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../auth/token-auth.js';
import type { Decision } from '../policy/authorizer.js';
import { type AppFetch, inProcessTransport } from './in-process-transport.js';
import { directAnswer, directCallOf } from './mcp-direct-call.js';

/** Who sent an MCP request, as the API's middleware established it. */
export interface McpCaller {
  principal: Principal;
  /** The bearer secret the request carried: the tool calls of a session it opens act with it. */
  token: string;
  requestId: string | null;
  /** Aborts when the client goes away before its answer was sent. */
  signal?: AbortSignal;
}

export interface McpSessionsOptions {
  /** Where tool calls go: the daemon's own app, in this process, with the session owner's token. */
  fetch: AppFetch;
  /** The busiest tool calls (commands, gateway tools) of a session, made straight to the daemon's services as its owner; absent, they go through `fetch` too. */
  backend?: (owner: McpCaller) => ToolBackend;
  audit: AuditLog;
  logger: Logger;
  /** Whether a token still authenticates: a session whose token was revoked is closed. */
  authenticate: (token: string) => Principal | undefined;
  /** The policy's word on a caller opening a session (mcp.session.open); absent allows every caller. */
  authorize?: (principal: Principal) => Promise<Decision>;
  /** Sessions the daemon keeps at once (100). */
  maxSessions?: number;
  /** Sessions one token keeps at once (20): past it, that token's least recently used session ends. */
  maxSessionsPerToken?: number;
  /** A session with no request and no open stream for this long ends (30 minutes). */
  idleMs?: number;
  /** Largest request body the transport reads (the SDK's default: 4 MiB). */
  maxBodyBytes?: number;
  now?: () => number;
}

type CloseReason = 'deleted' | 'idle' | 'evicted' | 'revoked' | 'shutdown';

interface Session {
  /** Set when the client's initialize is accepted. */
  id?: string;
  owner: McpCaller;
  server: McpServer;
  callTool: PaddockMcp['callTool'];
  /** The tools/calls answered from the tool table (see serve), in flight, by request id: what a notifications/cancelled aborts. */
  direct: DirectCalls;
  /** Ends the server's background work (following the gateway's tools). */
  ended: AbortController;
  transport: WebStandardStreamableHTTPServerTransport;
  work: PendingWork;
  openedAt: number;
  lastActive: number;
  /** Responses still being sent: requests in flight and the client's GET stream. A session with one is not idle. */
  streams: number;
  requests: number;
  lastRequestId: string | null;
  admitted: boolean;
  /** No room for it: the daemon's sessions are all in use. */
  refused: boolean;
  closing?: CloseReason;
}

/**
 * The Streamable HTTP side of the Paddock MCP server: one server and transport
 * per session (Mcp-Session-Id), each acting with the token that opened it and
 * answering no other. Sessions are bounded in number and end when idle, when
 * their token is revoked, on DELETE, or when the daemon stops; their opening
 * and end are audited (tool calls are audited by the API actions they make,
 * one decision and one record each, as if sent to the API).
 */
export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly maxSessions: number;
  private readonly maxPerToken: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: McpSessionsOptions) {
    this.maxSessions = options.maxSessions ?? 100;
    this.maxPerToken = options.maxSessionsPerToken ?? 20;
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.idleMs / 4, 60_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Answers one request to the MCP endpoint (POST, GET or DELETE) from an authenticated caller. */
  async handle(request: Request, caller: McpCaller, parsedBody?: unknown): Promise<Response> {
    if (this.closed) return rpcError(503, -32000, 'the daemon is shutting down');
    const id = request.headers.get('mcp-session-id');
    if (!id) {
      if (request.method !== 'POST') return rpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return this.open(request, caller, parsedBody);
    }
    const session = this.sessions.get(id);
    if (!session) return rpcError(404, -32001, 'Session not found');
    if (session.owner.principal.id !== caller.principal.id) {
      // Answered as if it did not exist: a session id says nothing to another token.
      this.record(caller.principal, caller.requestId, 'mcp.session.use', id, 'deny', 'not_owner');
      return rpcError(404, -32001, 'Session not found');
    }
    return this.serve(session, request, caller, parsedBody);
  }

  /** Ends sessions left idle or whose token no longer authenticates; runs on a timer. */
  sweep(): void {
    const now = this.now();
    for (const session of [...this.sessions.values()]) {
      if (this.options.authenticate(session.owner.token)?.id !== session.owner.principal.id) this.close(session, 'revoked');
      else if (session.streams === 0 && now - session.lastActive >= this.idleMs) this.close(session, 'idle');
    }
  }

  /** Ends every session and waits (a few seconds at most) for their tool calls' clean-up, such as killing a run_code sandbox. */
  async closeAll(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const open = [...this.sessions.values()];
    for (const session of open) this.close(session, 'shutdown');
    await Promise.all(open.map((s) => s.work.settled(5000)));
  }

  private async open(request: Request, caller: McpCaller, parsedBody: unknown): Promise<Response> {
    const decision = (await this.options.authorize?.(caller.principal)) ?? { effect: 'allow' as const };
    if (decision.effect !== 'allow') {
      // Nothing can wait for a human while a client opens its session: an ask refuses it too, with its reason.
      this.record(caller.principal, caller.requestId, 'mcp.session.open', '-', 'deny', 'policy_denied', { reason: decision.reason });
      const wait = decision.effect === 'ask' ? ' (opening a session cannot wait for an approval)' : '';
      return rpcError(403, -32000, `policy_denied: ${decision.reason}${wait}`);
    }
    const session = await this.create(caller);
    const response = await this.serve(session, request, caller, parsedBody);
    if (session.refused) {
      await response.body?.cancel();
      void session.server.close();
      this.record(caller.principal, caller.requestId, 'mcp.session.open', '-', 'deny', 'too_many_sessions', { max: this.maxSessions });
      return rpcError(503, -32000, `too many MCP sessions (${this.maxSessions}) in use; end one (DELETE /mcp) or try again later`);
    }
    if (!session.admitted) {
      // Not an initialize request: the transport has answered with its error, and this server is not needed.
      void session.server.close();
      return response;
    }
    const client = session.server.server.getClientVersion();
    this.record(caller.principal, caller.requestId, 'mcp.session.open', session.id as string, 'allow', 'ok', {
      ...(client ? { client: { name: client.name, version: client.version } } : {}),
    });
    return response;
  }

  private async create(caller: McpCaller): Promise<Session> {
    const work = new PendingWork();
    const connection = { url: 'http://localhost', token: caller.token, transport: inProcessTransport(this.options.fetch) };
    const ended = new AbortController();
    const backend = this.options.backend?.(caller);
    const { server, callTool } = createPaddockMcp(connection, {
      work,
      ...(backend ? { backend } : {}),
      signal: ended.signal,
      onListError: (err) => this.options.logger.warn({ err }, "mcp: the gateway's tools are left out of a tools/list"),
    });
    const now = this.now();
    const session: Session = {
      owner: caller,
      server,
      callTool,
      direct: new DirectCalls(),
      ended,
      work,
      openedAt: now,
      lastActive: now,
      streams: 0,
      requests: 0,
      lastRequestId: caller.requestId,
      admitted: false,
      refused: false,
      transport: new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        // Answers as plain JSON, not a one-event SSE stream: no tool sends progress mid-call, and it is cheaper for both sides.
        enableJsonResponse: true,
        onsessioninitialized: (id) => this.admit(session, id),
        ...(this.options.maxBodyBytes ? { maxRequestBodySize: this.options.maxBodyBytes } : {}),
      }),
    };
    server.server.onclose = () => this.forget(session);
    // The transport reports each malformed request here too: the client has its answer, this is for the log.
    server.server.onerror = (err) => this.options.logger.debug({ err, session: session.id }, 'mcp');
    await server.connect(session.transport);
    return session;
  }

  /** Makes room for a new session (the token's own oldest first, then the oldest idle one), or refuses it. */
  private admit(session: Session, id: string): void {
    session.id = id;
    const all = [...this.sessions.values()];
    const own = all.filter((s) => s.owner.principal.id === session.owner.principal.id);
    if (own.length >= this.maxPerToken) this.close(leastRecent(own) as Session, 'evicted');
    if (this.sessions.size >= this.maxSessions) {
      const idle = all.filter((s) => s.streams === 0 && !s.closing);
      const victim = leastRecent(idle.filter((s) => own.includes(s))) ?? leastRecent(idle);
      if (!victim) {
        session.refused = true;
        return;
      }
      this.close(victim, 'evicted');
    }
    session.admitted = true;
    this.sessions.set(id, session);
  }

  /**
   * parsedBody: the POST's JSON, read already (undefined: the transport reads
   * the request). A plain tools/call of an open session is answered from the
   * session's tool table here, past the MCP SDK's transport and protocol
   * layers, which cost the daemon ~0.15 ms of CPU per call (the bench's
   * gateway call: 0.92 → 0.77 ms); the tool, its decision and its record are
   * the same either way.
   */
  private async serve(session: Session, request: Request, caller: McpCaller, parsedBody?: unknown): Promise<Response> {
    session.lastActive = this.now();
    session.streams++;
    session.requests++;
    session.lastRequestId = caller.requestId;
    if (parsedBody !== undefined) {
      session.direct.cancel(cancelledIds(parsedBody));
      const call = session.id && session.admitted && !session.closing ? directCallOf(request, parsedBody) : undefined;
      if (call) return this.answerDirectly(session, session.id as string, call, caller.signal);
    }
    let response: Response;
    try {
      response = await session.transport.handleRequest(request, parsedBody === undefined ? undefined : { parsedBody });
    } catch (err) {
      session.streams--;
      throw err;
    }
    const sent = () => {
      session.streams--;
      session.lastActive = this.now();
    };
    // A JSON answer is whole already; only a stream (the client's GET, an SSE answer) is watched until it ends.
    if (response.headers.get('content-type')?.startsWith('application/json')) {
      sent();
      return response;
    }
    return whenSent(response, sent);
  }

  /**
   * Runs one tools/call on the session's tool table. It is aborted, as the
   * SDK's protocol aborts a handler, by the client's notifications/cancelled
   * for its id and by the session's end; and by the client's going away. Its
   * answer is what the tool ended with, also when cancelled (a killed
   * command's exit, say): the HTTP request is answered either way, and a
   * client that cancelled ignores it.
   */
  private async answerDirectly(session: Session, sessionId: string, call: DirectCall, clientGone?: AbortSignal): Promise<Response> {
    try {
      const { result } = await session.direct.run(call.id, (signal) => session.callTool(call.name, call.args, signal), [session.ended.signal, clientGone]);
      return directAnswer(sessionId, call.id, result);
    } finally {
      session.streams--;
      session.lastActive = this.now();
    }
  }

  private close(session: Session, reason: CloseReason): void {
    if (session.closing) return;
    session.closing = reason;
    if (session.id && this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    session.server.close().catch((err) => this.options.logger.warn({ err, session: session.id }, 'closing an MCP session failed'));
  }

  /** The server closed: by DELETE from its client, or by `close`. */
  private forget(session: Session): void {
    session.ended.abort();
    if (session.id && this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    if (!session.admitted) return;
    const reason = session.closing ?? 'deleted';
    session.closing = reason;
    const requestId = reason === 'deleted' ? session.lastRequestId : null;
    this.record(
      session.owner.principal,
      requestId,
      'mcp.session.close',
      session.id as string,
      'allow',
      'ok',
      { reason, requests: session.requests },
      this.now() - session.openedAt,
    );
  }

  private record(
    principal: Principal,
    requestId: string | null,
    action: string,
    sessionId: string,
    decision: 'allow' | 'deny',
    outcome: string,
    details: Record<string, unknown> = {},
    durationMs?: number,
  ): void {
    this.options.audit.append({
      requestId,
      principal: principal.id,
      tenant: principal.tenant,
      action,
      resource: `mcp-session:${sessionId}`,
      decision,
      outcome,
      details,
      ...(durationMs === undefined ? {} : { durationMs }),
    });
  }
}

function leastRecent(sessions: Session[]): Session | undefined {
  return sessions.reduce<Session | undefined>((oldest, s) => (!oldest || s.lastActive < oldest.lastActive ? s : oldest), undefined);
}

/** A JSON-RPC error answer, as the SDK's transport gives its own. */
function rpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status });
}

/** The same response, calling `done` once its body has been sent, cancelled or failed. */
function whenSent(response: Response, done: () => void): Response {
  if (!response.body) {
    done();
    return response;
  }
  const reader = response.body.getReader();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    done();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: finished, value } = await reader.read();
        if (finished) {
          end();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
