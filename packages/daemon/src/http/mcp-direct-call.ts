import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import { type RequestId, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { type DirectCall, plainToolsCall } from '@paddock/mcp';

/**
 * The one tools/call request of a POST, when the MCP SDK's transport would
 * take it as it is: one JSON-RPC request (no batch, no task), the Accept and
 * Content-Type the transport asks for, a protocol version it supports (or
 * none). Anything else is undefined, and goes to the transport, which
 * answers it as it always has, its errors included.
 */
export function directCallOf(request: Request, body: unknown): DirectCall | undefined {
  const call = request.method === 'POST' ? plainToolsCall(body) : undefined;
  if (!call) return undefined;
  const accept = request.headers.get('accept');
  if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
  if (!isJsonContentType(request.headers.get('content-type'))) return undefined;
  const version = request.headers.get('mcp-protocol-version');
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
  return call;
}

/** The JSON-RPC answer to a direct call, in the shape (body and headers) the transport gives one. */
export function directAnswer(sessionId: string, id: RequestId, result: unknown): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id, result }), {
    status: 200,
    headers: { 'content-type': 'application/json', 'mcp-session-id': sessionId },
  });
}
