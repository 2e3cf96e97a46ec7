import { Agent, request } from 'node:http';

/** Sends one request to the MCP endpoint (a JSON POST, or the DELETE that ends the session); answers its status, session header and body. */
type Send = (method: 'POST' | 'DELETE', body: unknown, headers: Record<string, string>) => Promise<{ status: number; sessionId: string | null; text: string }>;

export type PlainHttp = 'node-http' | 'fetch';

/**
 * An MCP session at /mcp held with bare JSON POSTs, no MCP client: what the
 * daemon's side of a tools/call costs (through Node's http with a kept-alive
 * socket, as the SDK calls the API), and what Node's fetch adds to that (the
 * HTTP client of the MCP SDK's Streamable HTTP transport).
 */
export interface PlainMcpSession {
  callTool(name: string, args: Record<string, unknown>): Promise<{ isError?: boolean; content?: unknown }>;
  close(): Promise<void>;
}

const protocolVersion = '2025-06-18';

export async function openPlainMcpSession(url: string, token: string, via: PlainHttp, timeoutMs = 120_000): Promise<PlainMcpSession> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = via === 'fetch' ? fetchSend(url, timeoutMs) : nodeSend(url, agent, timeoutMs);
  const post = (body: unknown, headers: Record<string, string>) => send('POST', body, headers);
  const base = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const init = await post(
    { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 'paddock-bench-plain', version: '0' } } },
    base,
  );
  if (init.status !== 200 || !init.sessionId) throw new Error(`MCP initialize: HTTP ${init.status}: ${init.text.slice(0, 300)}`);
  const headers = { ...base, 'mcp-session-id': init.sessionId, 'mcp-protocol-version': protocolVersion };
  const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  if (initialized.status !== 202) throw new Error(`MCP notifications/initialized: HTTP ${initialized.status}`);
  let id = 1;
  return {
    async callTool(name, args) {
      const answer = await post({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name, arguments: args } }, headers);
      const message = JSON.parse(answer.text) as { result?: { isError?: boolean; content?: unknown }; error?: unknown };
      if (answer.status !== 200 || !message.result) throw new Error(`MCP tools/call ${name}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
      return message.result;
    },
    async close() {
      await send('DELETE', undefined, headers).catch(() => {});
      agent.destroy();
    },
  };
}

function nodeSend(url: string, agent: Agent, timeoutMs: number): Send {
  const target = new URL(url);
  return (method, body, headers) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method,
          agent,
          headers: { ...headers, ...(payload ? { 'content-length': payload.length } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const sessionId = res.headers['mcp-session-id'];
            resolve({ status: res.statusCode ?? 0, sessionId: typeof sessionId === 'string' ? sessionId : null, text: Buffer.concat(chunks).toString() });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
}

function fetchSend(url: string, timeoutMs: number): Send {
  return async (method, body, headers) => {
    const res = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, sessionId: res.headers.get('mcp-session-id'), text: await res.text() };
  };
}
