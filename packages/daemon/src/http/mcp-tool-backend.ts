import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  CommandStartSchema,
  FilePathQuerySchema,
  GatewayToolCallSchema,
  type GatewayToolInfo,
  PayloadTooLargeError,
  takeHead,
  UnauthorizedError,
} from '@paddock/core';
import type { ToolBackend } from '@paddock/mcp';
import type { Logger } from 'pino';
import type { Principal } from '../auth/token-auth.js';
import { apiError } from './api-error.js';
import { approvalWaitFromSeconds, type Caller } from './governed.js';
import { execToExit } from './routes/command-routes.js';
import { listSandboxFolder, openSandboxFile, writeSandboxFile } from './routes/file-routes.js';
import { callGatewayTool, ToolParams } from './routes/gateway-routes.js';
import type { Services } from './services.js';

export interface McpToolBackendOptions {
  services: Services;
  /** The session's token, checked again at every call as the API checks every request's: a revoked or expired one acts no more. */
  authenticate: () => Principal | undefined;
  logger: Logger;
}

/**
 * The tools of the daemon's own MCP sessions (commands, files, the gateway's tools),
 * calling the same service functions as the API's routes, as the session's
 * token: the same checks of the arguments, the same single policy decision
 * and audit record, and errors as the API answers them (a bug is internal_error, its details in
 * the log), without a second trip through the HTTP stack for each call.
 */
export function mcpToolBackend({ services, authenticate, logger }: McpToolBackendOptions): ToolBackend {
  const act = async <T>(signal: AbortSignal, approval: Approval, work: (caller: Caller) => Promise<T>): Promise<T> => {
    // Each call has a request id of its own, as it had as an API request.
    const requestId = randomUUID();
    try {
      const principal = authenticate();
      if (!principal) throw new UnauthorizedError();
      return await work({
        principal,
        requestId,
        signal,
        approvalId: approval.approvalId,
        approvalWaitMs: approvalWaitFromSeconds(approval.approvalWaitSeconds ?? 0),
      });
    } catch (err) {
      // The client gave up on the call (MCP's cancellation): nothing went wrong here, and nobody reads the answer.
      if (signal.aborted) throw signal.reason;
      const answer = apiError(err, requestId);
      if (answer.code === 'internal_error') logger.error({ err, req: requestId }, 'unhandled error in an MCP tool call');
      throw answer;
    }
  };
  const listTools = (caller: Caller, follow: boolean) =>
    services.governAs(caller, { action: 'gateway.tool.list', resource: 'mcp-server:*', context: { follow } }, async () =>
      services.gateway.tools(caller.principal.tenant),
    );
  return {
    runCommand: (sandboxId, request, signal) =>
      act(signal, {}, (caller) => execToExit(services, caller, sandboxId, CommandStartSchema.parse(definedOnly(request)))),
    readFileHead: (sandboxId, path, maxBytes, { user, signal }) =>
      act(signal, {}, async (caller) => {
        const query = FilePathQuerySchema.parse(definedOnly({ path, user }));
        const { body } = await openSandboxFile(services, caller, sandboxId, query.path, query.user);
        return readHead(body, maxBytes, signal);
      }),
    writeFile: (sandboxId, path, data, { user, mode, signal }) =>
      act(signal, {}, (caller) => {
        const query = FilePathQuerySchema.parse(definedOnly({ path, user }));
        return writeSandboxFile(services, caller, sandboxId, query.path, limited(data, services.limits.maxUploadBytes), { user: query.user, mode });
      }),
    listFiles: (sandboxId, path, { user, signal }) =>
      act(signal, {}, (caller) => {
        const query = FilePathQuerySchema.parse(definedOnly({ path, user }));
        return listSandboxFolder(services, caller, sandboxId, query.path, query.user);
      }),
    callGatewayTool: (name, args, { signal, ...approval }) =>
      act(signal, approval, async (caller) => {
        ToolParams.parse({ name });
        const { arguments: checked = {} } = GatewayToolCallSchema.parse({ arguments: args });
        return (await callGatewayTool(services, caller, name, checked)) as CallToolResult;
      }),
    listGatewayTools: (signal) => act(signal, {}, (caller) => listTools(caller, false)),
    followGatewayTools: (signal) =>
      followTools(services.gateway, signal, () =>
        act(signal, {}, async (caller) => ({ tenant: caller.principal.tenant, tools: await listTools(caller, true) })),
      ),
  };
}

/**
 * A tenant's gateway tools, then again at each change, until `signal` aborts:
 * what GET /v1/gateway/tools?follow=true streams (one decision and one record,
 * when it starts), without the stream.
 */
async function* followTools(
  gateway: Services['gateway'],
  signal: AbortSignal,
  start: () => Promise<{ tenant: string; tools: GatewayToolInfo[] }>,
): AsyncGenerator<GatewayToolInfo[]> {
  let tenant: string | undefined;
  let changed = false;
  let wake = () => {};
  // Listening before the first list, so no change falls between the two (one before it costs a list sent twice).
  const unsubscribe = gateway.onToolsChanged((of) => {
    if (tenant !== undefined && of !== tenant) return;
    changed = true;
    wake();
  });
  const onAbort = () => wake();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const first = await start();
    tenant = first.tenant;
    yield first.tools;
    while (!signal.aborted) {
      if (!changed)
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      if (signal.aborted) return;
      changed = false;
      yield gateway.tools(tenant);
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
  }
}

/** The first `maxBytes` of a file's stream, which is then let go; aborting `signal` lets it go at once. */
async function readHead(body: Readable, maxBytes: number, signal: AbortSignal): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const stop = () => body.destroy();
  signal.addEventListener('abort', stop, { once: true });
  try {
    const head = await takeHead(body, maxBytes);
    signal.throwIfAborted();
    return head;
  } finally {
    signal.removeEventListener('abort', stop);
    body.destroy();
  }
}

/** A file's content as PUT …/files takes it: refused with 413 past the daemon's upload limit, inside the decision's record as there. */
async function* limited(data: Uint8Array, limit: number): AsyncIterable<Uint8Array> {
  if (data.byteLength > limit) throw new PayloadTooLargeError(limit);
  yield data;
}

interface Approval {
  approvalId?: string;
  approvalWaitSeconds?: number;
}

/** The members a JSON body would carry: an undefined one is not sent, so it is not in the body the API checks (nor in its digest). */
function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
