import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { paddockVersion } from '@paddock/core/client';
import type { ConnectionOptions } from '@paddock/sdk';
import { registerRunCodeTool } from './commands/run-code-tool.js';
import { registerRunCommandTool } from './commands/run-command-tool.js';
import { registerDesktopTools } from './desktop/desktop-tools.js';
import { registerFileResource } from './files/file-resource.js';
import { registerFileTools } from './files/file-tools.js';
import { type GatewayToolOptions, GatewayToolSource } from './gateway-tools/gateway-tool-source.js';
import { registerNetworkAllowTool } from './network/network-allow-tool.js';
import { registerSandboxTools } from './sandboxes/sandbox-tools.js';
import type { PendingWork } from './tools/pending-work.js';
import type { ToolBackend } from './tools/tool-backend.js';
import { toolContext } from './tools/tool-context.js';
import { ToolTable } from './tools/tool-table.js';

export interface PaddockMcpServerOptions {
  /** Records the tool calls in flight, so a transport can let them finish their clean-up before the process ends. */
  work?: PendingWork;
  /** The gateway's tools (third-party servers): whether to offer them, and how long a call waits for a human. */
  gateway?: GatewayToolOptions | false;
  /** Told when a source of tools could not be listed (the others still are). */
  onListError?: (err: unknown) => void;
  /**
   * Where the busiest calls (commands, gateway tools) go; by default the SDK,
   * to the daemon at `connection`. The daemon's own sessions call its services.
   */
  backend?: ToolBackend;
  /** Ends what the server does in the background (following the gateway's tools for tools/list_changed): abort it when the session ends. */
  signal?: AbortSignal;
}

const instructions = [
  'Paddock runs code in isolated Linux sandboxes (template "base": Debian 12 with python3, node, bash, git, curl; working directory /work).',
  'For a one-off program use run_code: without sandboxId it gets a fresh sandbox that is killed afterwards.',
  'For several steps, sandbox_create once, then run_command, run_code, write_file, read_file and list_files with its id, and sandbox_kill at the end.',
  'Sandboxes reach no network host until network_allow (or sandbox_create’s network.allow) names it; the operator’s policy may refuse.',
  'A command that exits non-zero is a result with its exitCode, not an error; errors name a stable code such as sandbox_not_found or policy_denied.',
  'Tools named <server>__<tool> belong to third-party MCP servers the operator runs through Paddock’s gateway, each in a sandbox of its own.',
].join(' ');

/**
 * The Paddock MCP server: sandbox, command, file and network tools, the
 * gateway's third-party tools, and a resource template for sandbox files, all
 * calling the daemon at `connection` through the SDK (or `options.backend`). Connect it to any
 * transport (`serveStdio` for stdio).
 */
export function createPaddockMcpServer(connection: ConnectionOptions = {}, options: PaddockMcpServerOptions = {}): McpServer {
  return createPaddockMcp(connection, options).server;
}

/** The server and what its tools/call runs, for a transport that answers plain calls itself (the daemon's /mcp, `paddock mcp`). */
export interface PaddockMcp {
  server: McpServer;
  /** What tools/call calls; it answers every failure as a tool error. */
  callTool(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult>;
}

export function createPaddockMcp(connection: ConnectionOptions = {}, options: PaddockMcpServerOptions = {}): PaddockMcp {
  const server = new McpServer({ name: 'paddock', title: 'Paddock', version: paddockVersion }, { instructions });
  const context = toolContext(connection, options.work, options.backend);
  const tools = new ToolTable(options.onListError);
  registerSandboxTools(tools, context);
  registerRunCommandTool(tools, context);
  registerRunCodeTool(tools, context);
  registerFileTools(tools, context);
  registerNetworkAllowTool(tools, context);
  registerDesktopTools(tools, context);
  if (options.gateway !== false) tools.addSource(new GatewayToolSource(context, options.gateway));
  tools.serveOn(server.server, options.signal);
  registerFileResource(server, context);
  return { server, callTool: (name, args, signal) => tools.call(name, args, signal) };
}
