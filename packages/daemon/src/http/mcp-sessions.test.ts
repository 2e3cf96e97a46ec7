import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditLog, AuditRecord } from '../audit/audit-log.js';
import type { Principal } from '../auth/token-auth.js';
import { type McpCaller, McpSessions, type McpSessionsOptions } from './mcp-sessions.js';

// Session bookkeeping with a clock the test moves: limits, eviction, idle and
// revoked tokens. Opening a session and listing tools reach no API, so no daemon is needed.
const alice: McpCaller = { principal: { id: 'tok_alice', tenant: 'a', role: 'agent', owner: 'agent:alice' }, token: 'secret-alice', requestId: 'req-a' };
const bob: McpCaller = { principal: { id: 'tok_bob', tenant: 'b', role: 'agent', owner: 'agent:bob' }, token: 'secret-bob', requestId: 'req-b' };

let sessions: McpSessions | undefined;
let records: AuditRecord[];
let now: number;
let revoked: Set<string>;

function start(options: Partial<McpSessionsOptions> = {}): McpSessions {
  records = [];
  now = 1_000_000;
  revoked = new Set();
  const audit = { append: (r: AuditRecord) => records.push(r) } as unknown as AuditLog;
  const known: Record<string, Principal> = { [alice.token]: alice.principal, [bob.token]: bob.principal };
  sessions = new McpSessions({
    fetch: () => Response.json({ error: { code: 'unexpected', message: 'no API in this test', details: {} } }, { status: 500 }),
    audit,
    logger: pino({ level: 'silent' }),
    authenticate: (token) => (revoked.has(token) ? undefined : known[token]),
    now: () => now,
    ...options,
  });
  return sessions;
}

afterEach(async () => {
  await sessions?.closeAll();
  sessions = undefined;
});

function mcpRequest(init: { method?: string; session?: string; body?: unknown; accept?: string } = {}): Request {
  const headers: Record<string, string> = { accept: init.accept ?? 'application/json, text/event-stream' };
  if (init.session) headers['mcp-session-id'] = init.session;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return new Request('http://localhost/mcp', {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'unit', version: '9' } },
};

/** Opens a session and reads its answer to the end (so it is idle after); returns its id. */
async function open(s: McpSessions, caller: McpCaller): Promise<string> {
  const res = await s.handle(mcpRequest({ body: initialize }), caller);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('"serverInfo"');
  now += 10;
  return res.headers.get('mcp-session-id') as string;
}

async function listTools(s: McpSessions, caller: McpCaller, session: string): Promise<number> {
  const res = await s.handle(mcpRequest({ session, body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } }), caller);
  await res.body?.cancel();
  now += 10;
  return res.status;
}

const closes = () => records.filter((r) => r.action === 'mcp.session.close').map((r) => `${r.resource.slice('mcp-session:'.length)} ${r.details.reason}`);

describe('MCP sessions', () => {
  it('audits the opening with the client’s name and the end with its reason, request and duration', async () => {
    const s = start();
    const id = await open(s, alice);
    expect(records[0]).toMatchObject({
      requestId: 'req-a',
      principal: 'tok_alice',
      tenant: 'a',
      action: 'mcp.session.open',
      resource: `mcp-session:${id}`,
      decision: 'allow',
      outcome: 'ok',
      details: { client: { name: 'unit', version: '9' } },
    });
    const deleted = await s.handle(mcpRequest({ method: 'DELETE', session: id }), { ...alice, requestId: 'req-delete' });
    expect(deleted.status).toBe(200);
    expect(records[1]).toMatchObject({ requestId: 'req-delete', action: 'mcp.session.close', details: { reason: 'deleted', requests: 2 } });
    expect(records[1]?.durationMs).toBe(10);
    expect(s.size).toBe(0);
  });

  it('a full daemon closes the oldest idle session for a new one', async () => {
    const s = start({ maxSessions: 2 });
    const first = await open(s, alice);
    const second = await open(s, alice);
    expect(await listTools(s, alice, first)).toBe(200); // first is now the more recently used
    const third = await open(s, bob);
    expect(s.size).toBe(2);
    expect(closes()).toEqual([`${second} evicted`]);
    expect(await listTools(s, alice, second)).toBe(404);
    expect(await listTools(s, alice, first)).toBe(200);
    expect(await listTools(s, bob, third)).toBe(200);
  });

  it('a full daemon whose sessions all have an open stream refuses a new one with 503, audited', async () => {
    const s = start({ maxSessions: 1 });
    const first = await open(s, alice);
    const stream = await s.handle(mcpRequest({ session: first, accept: 'text/event-stream' }), alice);
    expect(stream.status).toBe(200);
    const refused = await s.handle(mcpRequest({ body: initialize }), bob);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { message: expect.stringMatching(/too many MCP sessions/) } });
    expect(records.at(-1)).toMatchObject({ principal: 'tok_bob', action: 'mcp.session.open', decision: 'deny', outcome: 'too_many_sessions' });
    expect(s.size).toBe(1);
    // Once the stream ends the session is idle, and gives way.
    await stream.body?.cancel();
    await open(s, bob);
    expect(closes()).toEqual([`${first} evicted`]);
  });

  it('one token past its own limit loses its own least recently used session, not another token’s', async () => {
    const s = start({ maxSessionsPerToken: 2 });
    const bobs = await open(s, bob);
    const [a1, a2] = [await open(s, alice), await open(s, alice)];
    await open(s, alice);
    expect(closes()).toEqual([`${a1} evicted`]);
    expect(await listTools(s, alice, a2)).toBe(200);
    expect(await listTools(s, bob, bobs)).toBe(200);
  });

  it('ends sessions left idle, but not one with an open stream; and ends those whose token was revoked', async () => {
    const s = start({ idleMs: 60_000 });
    const idle = await open(s, alice);
    const streaming = await open(s, alice);
    const stream = await s.handle(mcpRequest({ session: streaming, accept: 'text/event-stream' }), alice);
    const bobs = await open(s, bob);
    now += 59_000;
    expect(await listTools(s, bob, bobs)).toBe(200);
    now += 1_000;
    s.sweep();
    expect(closes()).toEqual([`${idle} idle`]);
    expect(await listTools(s, alice, idle)).toBe(404);
    revoked.add(bob.token);
    s.sweep();
    expect(closes()).toEqual([`${idle} idle`, `${bobs} revoked`]);
    expect(s.size).toBe(1);
    await stream.body?.cancel();
  });

  it('another token gets 404 for a session id, audited as not_owner; without a session id only POST initialize is served', async () => {
    const s = start();
    const id = await open(s, alice);
    expect(await listTools(s, bob, id)).toBe(404);
    expect(records.at(-1)).toMatchObject({ principal: 'tok_bob', tenant: 'b', action: 'mcp.session.use', decision: 'deny', outcome: 'not_owner' });
    expect(await listTools(s, alice, id)).toBe(200);
    expect((await s.handle(mcpRequest(), alice)).status).toBe(400);
    const notInit = await s.handle(mcpRequest({ body: { jsonrpc: '2.0', id: 5, method: 'tools/list' } }), alice);
    expect(notInit.status).toBe(400);
    expect(s.size).toBe(1);
  });

  it('closeAll ends every session (audited as shutdown) and answers 503 after', async () => {
    const s = start();
    const id = await open(s, alice);
    await s.closeAll();
    expect(closes()).toEqual([`${id} shutdown`]);
    expect((await s.handle(mcpRequest({ body: initialize }), alice)).status).toBe(503);
  });
});
