import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import { CallToolRequestSchema, CancelledNotificationSchema, type RequestId, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';

/** A tools/call a session answers from its tool table itself. */
export interface DirectCall {
  id: RequestId;
  name: string;
  args: Record<string, unknown>;
}

/**
 * The one tools/call request of a POST, when the MCP SDK's transport would
 * take it as it is: one JSON-RPC request (no batch, no task), the Accept and
 * Content-Type the transport asks for, a protocol version it supports (or
 * none). Anything else is undefined, and goes to the transport, which
 * answers it as it always has, its errors included.
 */
export function directCallOf(request: Request, body: unknown): DirectCall | undefined {
  if (request.method !== 'POST' || !isPlainObject(body) || body.method !== 'tools/call' || body.jsonrpc !== '2.0') return undefined;
  const id = body.id;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isInteger(id))) return undefined;
  const accept = request.headers.get('accept');
  if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
  if (!isJsonContentType(request.headers.get('content-type'))) return undefined;
  const version = request.headers.get('mcp-protocol-version');
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
  const parsed = CallToolRequestSchema.safeParse({ method: body.method, params: body.params });
  if (!parsed.success || parsed.data.params.task !== undefined) return undefined;
  return { id, name: parsed.data.params.name, args: parsed.data.params.arguments ?? {} };
}

/** The request ids a POST's notifications/cancelled name (one message or a batch). */
export function cancelledIds(body: unknown): RequestId[] {
  const messages = Array.isArray(body) ? body : [body];
  const ids: RequestId[] = [];
  for (const message of messages) {
    // Looked at by method first: nearly every POST is something else, and a failed parse is the dear kind.
    if (!isPlainObject(message) || message.method !== 'notifications/cancelled') continue;
    const cancelled = CancelledNotificationSchema.safeParse(message);
    if (cancelled.success && cancelled.data.params.requestId !== undefined) ids.push(cancelled.data.params.requestId);
  }
  return ids;
}

/** The JSON-RPC answer to a direct call, in the shape (body and headers) the transport gives one. */
export function directAnswer(sessionId: string, id: RequestId, result: unknown): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id, result }), {
    status: 200,
    headers: { 'content-type': 'application/json', 'mcp-session-id': sessionId },
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
