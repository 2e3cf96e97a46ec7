import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CommandStartSchema, GatewayToolCallSchema, UnauthorizedError } from '@paddock/core';
import type { ToolBackend } from '@paddock/mcp';
import type { Logger } from 'pino';
import type { Principal } from '../auth/token-auth.js';
import { apiError } from './api-error.js';
import { approvalWaitFromSeconds, type Caller } from './governed.js';
import { execToExit } from './routes/command-routes.js';
import { callGatewayTool, ToolParams } from './routes/gateway-routes.js';
import type { Services } from './services.js';

export interface McpToolBackendOptions {
  services: Services;
  /** The session's token, checked again at every call as the API checks every request's: a revoked or expired one acts no more. */
  authenticate: () => Principal | undefined;
  logger: Logger;
}

/**
 * The tools of the daemon's own MCP sessions, calling the same service
 * functions as the API's routes, as the session's token: the same checks of
 * the arguments, the same single policy decision and audit record, and
 * errors as the API answers them (a bug is internal_error, its details in
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
      const answer = apiError(err, requestId);
      if (answer.code === 'internal_error') logger.error({ err, req: requestId }, 'unhandled error in an MCP tool call');
      throw answer;
    }
  };
  return {
    runCommand: (sandboxId, request, signal) =>
      act(signal, {}, (caller) => execToExit(services, caller, sandboxId, CommandStartSchema.parse(definedOnly(request)))),
    callGatewayTool: (name, args, { signal, ...approval }) =>
      act(signal, approval, async (caller) => {
        ToolParams.parse({ name });
        const { arguments: checked = {} } = GatewayToolCallSchema.parse({ arguments: args });
        return (await callGatewayTool(services, caller, name, checked)) as CallToolResult;
      }),
  };
}

interface Approval {
  approvalId?: string;
  approvalWaitSeconds?: number;
}

/** The members a JSON body would carry: an undefined one is not sent, so it is not in the body the API checks (nor in its digest). */
function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
