import { PaddockError } from '@paddock/core';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/token-auth.js';
import type { Caller } from './governed.js';
import { mcpToolBackend } from './mcp-tool-backend.js';
import type { Services } from './services.js';

// What the /mcp tools' direct calls answer when the call cannot go ahead, as
// the API would: a token that no longer authenticates, arguments the API's
// schema refuses, and a bug, whose details stay in the log. The calls that go
// ahead are tested end to end (mcp-http.test.ts, gateway-mcp.test.ts).
const agent: Principal = { id: 'tok_agent', tenant: 't', role: 'agent', owner: 'agent:a' };
const signal = new AbortController().signal;

function backend(options: { principal?: Principal; governAs?: Services['governAs'] } = {}) {
  const logged: unknown[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const governed: Caller[] = [];
  const governAs: Services['governAs'] =
    options.governAs ??
    (async (caller) => {
      governed.push(caller);
      throw new Error('the test reached the services');
    });
  const services = { governAs } as unknown as Services;
  const tools = mcpToolBackend({ services, logger, authenticate: () => ('principal' in options ? options.principal : agent) });
  return { tools, logged, governed };
}

async function failure(work: Promise<unknown>): Promise<PaddockError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PaddockError);
  return err as PaddockError;
}

describe('the /mcp tools’ direct calls', () => {
  it('refuse a session whose token no longer authenticates, before any decision', async () => {
    const { tools, governed } = backend({ principal: undefined });
    expect((await failure(tools.runCommand('sb-000000000000', { cmd: ['true'] }, signal))).code).toBe('unauthorized');
    expect((await failure(tools.callGatewayTool('srv__echo', {}, { signal }))).code).toBe('unauthorized');
    expect(governed).toEqual([]);
  });

  it('check the arguments against the API’s schemas, as the API’s routes do', async () => {
    const { tools, governed } = backend();
    const empty = await failure(tools.runCommand('sb-000000000000', { cmd: [] }, signal));
    expect(empty).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(empty.message).toMatch(/cmd/);
    const longName = await failure(tools.callGatewayTool(`srv__${'x'.repeat(300)}`, {}, { signal }));
    expect(longName).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(governed).toEqual([]);
  });

  it('act as the session’s principal, each call with its own request id and the approval it names', async () => {
    const { tools, governed } = backend();
    await failure(tools.runCommand('sb-000000000000', { cmd: ['true'] }, signal));
    await failure(tools.callGatewayTool('srv__echo', { a: 1 }, { signal, approvalId: 'apr_1' }));
    await failure(tools.callGatewayTool('srv__echo', { a: 1 }, { signal, approvalWaitSeconds: 5000 }));
    expect(governed.map((c) => [c.principal.id, c.approvalId, c.approvalWaitMs])).toEqual([
      ['tok_agent', undefined, 0],
      ['tok_agent', 'apr_1', 0],
      // A wait is bounded as the API bounds its header: 10 minutes at most.
      ['tok_agent', undefined, 600_000],
    ]);
    expect(new Set(governed.map((c) => c.requestId)).size).toBe(3);
  });

  it('answer a bug as internal_error naming the request, with its details in the log only', async () => {
    const { tools, logged, governed } = backend();
    const err = await failure(tools.runCommand('sb-000000000000', { cmd: ['true'] }, signal));
    expect(err).toMatchObject({ code: 'internal_error', status: 500 });
    expect(err.message).not.toMatch(/reached the services/);
    expect(err.message).toContain(governed[0]?.requestId as string);
    expect(JSON.stringify(logged)).toMatch(/reached the services/);
  });

  it('follow the gateway’s tools: one decision when it starts, the list again at each change of the caller’s tenant, until the signal aborts', async () => {
    const listeners = new Set<(tenant: string) => void>();
    let version = 1;
    const gateway = {
      tools: (tenant: string) => [{ name: `${tenant}__v${version}` }],
      onToolsChanged: (listener: (tenant: string) => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const decisions: Array<[string, unknown]> = [];
    const governAs: Services['governAs'] = async (_caller, action, run) => {
      decisions.push([action.action, action.context]);
      return run(undefined);
    };
    const services = { governAs, gateway } as unknown as Services;
    const tools = mcpToolBackend({ services, logger: pino({ level: 'silent' }), authenticate: () => agent });
    const stop = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const list of tools.followGatewayTools(stop.signal)) {
        seen.push(list.map((t) => t.name).join());
        if (seen.length === 1) {
          version = 2;
          for (const l of listeners) l('another-tenant');
          for (const l of listeners) l('t');
        }
        if (seen.length === 2) stop.abort();
      }
    })();
    await following;
    expect(seen).toEqual(['t__v1', 't__v2']);
    expect(decisions).toEqual([['gateway.tool.list', { follow: true }]]);
    expect(listeners.size).toBe(0);
    expect(await tools.listGatewayTools(signal)).toEqual([{ name: 't__v2' }]);
    expect(decisions.at(-1)).toEqual(['gateway.tool.list', { follow: false }]);
  });
});
