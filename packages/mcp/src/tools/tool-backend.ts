import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CommandResult, CommandStart, GatewayToolInfo } from '@paddock/core';

/** A command as the tools run it: an argv (a shell line is already `/bin/sh -c …`), no terminal. */
export type CommandRequest = Omit<CommandStart, 'pty'>;

export interface GatewayCallOptions {
  signal: AbortSignal;
  /** An approval a human gave for this very call. */
  approvalId?: string;
  /** How long the call may wait for a human before it is refused with approval_required. */
  approvalWaitSeconds?: number;
}

/**
 * What the busiest tools, and the gateway's tools, ask of the daemon. Two implementations with one
 * contract (one policy decision and one audit record per call, errors as
 * PaddockErrors with the API's codes): the SDK over HTTP, for `paddock mcp`
 * and any other remote client, and the daemon's own services, for its /mcp
 * sessions, which so skip a second pass through its HTTP stack.
 */
export interface ToolBackend {
  /** Runs a command to its end; a non-zero exit or a timeout is a result, not an error. */
  runCommand(sandboxId: string, request: CommandRequest, signal: AbortSignal): Promise<CommandResult>;
  /** Calls a tool of one of the gateway's servers by its namespaced name; a tool that failed is a result with isError. */
  callGatewayTool(name: string, args: Record<string, unknown>, options: GatewayCallOptions): Promise<CallToolResult>;
  /** The gateway's tools this token sees. */
  listGatewayTools(signal: AbortSignal): Promise<GatewayToolInfo[]>;
  /** The gateway's tools now, then again each time they change, until `signal` aborts (which ends the iteration). */
  followGatewayTools(signal: AbortSignal): AsyncIterable<GatewayToolInfo[]>;
}
