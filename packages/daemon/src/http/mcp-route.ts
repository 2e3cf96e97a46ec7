import type { OpenAPIHono } from '@hono/zod-openapi';
import { UnauthorizedError } from '@paddock/core';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { isExpired, type TokenAuthenticator } from '../auth/token-auth.js';
import type { HttpEnv } from './http-env.js';
import type { McpSessions } from './mcp-sessions.js';
import type { Services } from './services.js';

/** Largest MCP request read: a write_file of its 8 Mi characters, with room for JSON escapes. */
export const mcpMaxBodyBytes = 16 * 1024 * 1024;

/**
 * A POST's JSON body as the API's middleware read it, parsed, so the MCP
 * transport need not read it again through a fetch Request. Undefined when
 * there is none to give (not a JSON POST) or it is not JSON: the transport
 * then reads the request itself and answers with its own error.
 */
async function parsedJsonBody(c: Context<HttpEnv>): Promise<unknown> {
  if (c.req.method !== 'POST' || !(c.req.header('content-type') ?? '').includes('application/json')) return undefined;
  return c.req.json().catch(() => undefined);
}

export interface McpEndpoint {
  /** Ends the open MCP sessions (when the daemon stops). */
  close(): Promise<void>;
}

/**
 * /mcp: the Paddock MCP server over Streamable HTTP (POST, GET, DELETE). The
 * API's middleware has checked the Host, the Origin and the bearer token by
 * the time a request gets here. The MCP code loads on the first request, so a
 * daemon nobody reaches over MCP does not carry it.
 */
export function registerMcpRoute(app: OpenAPIHono<HttpEnv>, s: Services, auth: TokenAuthenticator, logger: Logger): McpEndpoint {
  let sessions: Promise<McpSessions> | undefined;
  // An expired token ends its sessions as a revoked one does.
  const authenticate = (token: string) => {
    const principal = auth.authenticate(token);
    return principal && !isExpired(principal) ? principal : undefined;
  };
  const load = () => {
    sessions ??= Promise.all([import('./mcp-sessions.js'), import('./mcp-tool-backend.js')]).then(
      ([{ McpSessions }, { mcpToolBackend }]) =>
        new McpSessions({
          fetch: (request) => app.fetch(request),
          backend: (owner) => mcpToolBackend({ services: s, logger, authenticate: () => authenticate(owner.token) }),
          audit: s.audit,
          logger,
          authenticate,
          authorize: (principal) => s.policy.authorize({ principal, action: 'mcp.session.open', resource: 'mcp-session:*', context: {} }),
          maxBodyBytes: mcpMaxBodyBytes,
        }),
      (err: unknown) => {
        sessions = undefined;
        throw err;
      },
    );
    return sessions;
  };

  app.all('/mcp', async (c) => {
    if (!['GET', 'POST', 'DELETE'].includes(c.req.method)) {
      return c.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }, 405, { allow: 'GET, POST, DELETE' });
    }
    // The session acts with this token, so it must be the one the middleware accepted (sent as a header; MCP clients send no other kind).
    const header = c.req.header('authorization');
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!token) throw new UnauthorizedError();
    const mcp = await load();
    return mcp.handle(
      c.req.raw,
      { principal: c.get('principal'), token, requestId: c.get('requestId') ?? null, signal: c.get('signal') },
      await parsedJsonBody(c),
    );
  });

  return {
    async close() {
      const loaded = await sessions?.catch(() => undefined);
      await loaded?.closeAll();
    },
  };
}
