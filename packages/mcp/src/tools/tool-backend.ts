import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CommandResult, CommandStart, FileEntry, GatewayToolInfo } from '@paddock/core';

/** A command as the tools run it: an argv (a shell line is already `/bin/sh -c …`), no terminal. */
export type CommandRequest = Omit<CommandStart, 'pty'>;

export interface FileAccess {
  /** Whose permissions apply: "root", "user" or a uid (the sandbox's default user when absent). */
  user?: string;
  signal: AbortSignal;
}

export interface GatewayCallOptions {
  signal: AbortSignal;
  /** An approval a human gave for this very call. */
  approvalId?: string;
  /** How long the call may wait for a human before it is refused with approval_required. */
  approvalWaitSeconds?: number;
}

/**
 * What the tools ask of the daemon most: commands, files and the gateway's
 * tools (the rest call the SDK). Two implementations with one
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
  /** The first `maxBytes` of a file, and whether it is longer. */
  readFileHead(sandboxId: string, path: string, maxBytes: number, access: FileAccess): Promise<{ bytes: Uint8Array; truncated: boolean }>;
  /** Writes a file (parent folders are created); `mode` is its permission bits. */
  writeFile(sandboxId: string, path: string, data: Uint8Array, access: FileAccess & { mode?: number }): Promise<FileEntry>;
  listFiles(sandboxId: string, path: string, access: FileAccess): Promise<FileEntry[]>;
  /** The gateway's tools this token sees. */
  listGatewayTools(signal: AbortSignal): Promise<GatewayToolInfo[]>;
  /** The gateway's tools now, then again each time they change, until `signal` aborts (which ends the iteration). */
  followGatewayTools(signal: AbortSignal): AsyncIterable<GatewayToolInfo[]>;
}
