import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type CallToolResult, CallToolResultSchema, ErrorCode, ListToolsResultSchema, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { jsonDepth } from '@paddock/core/client';
import type { ProcessTransport } from './process-transport.js';

/** A tool as a third-party server describes it; schemas are its own JSON Schema, passed on untouched. */
export interface UpstreamTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

/** How much of a server's tool list the gateway takes; past it a tool is left out, and said so. */
export const upstreamLimits = {
  tools: 1000,
  pages: 50,
  /** All pages of one listing together. */
  listBytes: 16 * 1024 * 1024,
  descriptionChars: 16_000,
  titleChars: 1000,
  /** A tool's schemas and annotations together. */
  schemaBytes: 256 * 1024,
  /** How deeply a schema may nest: anything that walks one (a digest, a client) stays within its stack. */
  schemaDepth: 64,
  /** Problems named one by one in a listing; past them, a count. */
  skippedNamed: 100,
} as const;

const toolNamePattern = /^[A-Za-z0-9_.-]+$/;

export interface UpstreamConnectOptions {
  /** How this client introduces itself. */
  clientInfo: { name: string; version: string };
  timeoutMs: number;
  signal?: AbortSignal;
  /** The server said its tool list changed. */
  onToolsChanged: () => void;
  /** The longest name a tool may have here (what the caller prefixes it with counts). */
  maxToolNameChars: number;
}

export interface UpstreamCallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Runs one SDK request with a signal of its own, aborted when `signal` is
 * while the request lasts. The SDK never removes the abort listener it adds
 * to a request's signal: on a long-lived signal (AbortSignal.any and
 * AbortSignal.timeout ones are held by Node while they have listeners) that
 * listener kept the whole client and its server's process alive until the
 * signal fired, and then sent the server a cancellation for a request
 * answered long before. The signal given here is dropped with the request.
 */
async function forThisCall<T>(signal: AbortSignal | undefined, request: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (!signal) return request(undefined);
  const own = new AbortController();
  const abort = () => own.abort(signal.reason);
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  try {
    return await request(own.signal);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/**
 * The gateway's side of one MCP session with a third-party server. The
 * server is not trusted: results are passed on as the server sent them, and
 * its schemas are never compiled here (the SDK's listTools/callTool would
 * compile every output schema with a regex engine a server could stall).
 */
export class UpstreamClient {
  private constructor(
    private readonly client: Client,
    private readonly maxToolNameChars: number,
  ) {}

  static async connect(transport: ProcessTransport, options: UpstreamConnectOptions): Promise<UpstreamClient> {
    const client = new Client(options.clientInfo, {
      capabilities: {},
      listChanged: { tools: { autoRefresh: false, debounceMs: 200, onChanged: () => options.onToolsChanged() } },
    });
    await forThisCall(options.signal, (signal) => client.connect(transport, { timeout: options.timeoutMs, signal }));
    return new UpstreamClient(client, options.maxToolNameChars);
  }

  get serverInfo(): { name: string; version: string } | null {
    const info = this.client.getServerVersion();
    return info ? { name: info.name, version: info.version } : null;
  }

  /** Every page of the server's tools; those the gateway cannot offer are named in `skipped` with why. */
  async listTools(options: UpstreamCallOptions): Promise<{ tools: UpstreamTool[]; skipped: string[] }> {
    const tools: UpstreamTool[] = [];
    const skipped: string[] = [];
    let unnamed = 0;
    const seen = new Set<string>();
    let cursor: string | undefined;
    let bytes = 0;
    for (let page = 0; page < upstreamLimits.pages && bytes <= upstreamLimits.listBytes; page++) {
      const params = cursor ? { cursor } : {};
      const result = await forThisCall(options.signal, (signal) =>
        this.client.request({ method: 'tools/list', params }, ListToolsResultSchema, { timeout: options.timeoutMs, signal }),
      );
      for (const tool of result.tools) {
        // Depth first: measuring a schema nested past it would overflow the stack.
        const size = schemaDepth(tool) > upstreamLimits.schemaDepth ? 0 : toolBytes(tool);
        bytes += size;
        const problem =
          bytes > upstreamLimits.listBytes
            ? `the listing is over ${upstreamLimits.listBytes / 1024 ** 2} MiB`
            : this.problemWith(tool, size, seen, tools.length);
        if (!problem) {
          seen.add(tool.name);
          tools.push(upstreamTool(tool));
        } else if (skipped.length < upstreamLimits.skippedNamed) skipped.push(`${tool.name.slice(0, 200)}: ${problem}`);
        else unnamed += 1;
      }
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    if (unnamed) skipped.push(`${unnamed} more tools left out`);
    return { tools, skipped };
  }

  /**
   * One tools/call. A JSON-RPC error from the server becomes a tool error
   * result naming it: the call reached the server, which refused it.
   */
  async callTool(name: string, args: Record<string, unknown>, options: UpstreamCallOptions): Promise<CallToolResult> {
    try {
      return await forThisCall(options.signal, (signal) =>
        this.client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, { timeout: options.timeoutMs, signal }),
      );
    } catch (err) {
      if (err instanceof McpError && err.code !== ErrorCode.RequestTimeout && err.code !== ErrorCode.ConnectionClosed) {
        return { isError: true, content: [{ type: 'text', text: `upstream_error: the server refused the call (${err.code}): ${err.message}` }] };
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private problemWith(tool: Tool, bytes: number, seen: Set<string>, kept: number): string | undefined {
    if (kept >= upstreamLimits.tools) return `more than ${upstreamLimits.tools} tools`;
    if (!toolNamePattern.test(tool.name)) return 'its name has characters MCP does not allow in tool names';
    if (tool.name.length > this.maxToolNameChars) return `its name is longer than ${this.maxToolNameChars} characters`;
    if (seen.has(tool.name)) return 'listed twice';
    if ((tool.description?.length ?? 0) > upstreamLimits.descriptionChars)
      return `its description is longer than ${upstreamLimits.descriptionChars} characters`;
    if ((tool.title?.length ?? 0) > upstreamLimits.titleChars) return `its title is longer than ${upstreamLimits.titleChars} characters`;
    if (schemaDepth(tool) > upstreamLimits.schemaDepth) return `its schemas nest deeper than ${upstreamLimits.schemaDepth} levels`;
    if (bytes > upstreamLimits.schemaBytes) return `its schemas are larger than ${upstreamLimits.schemaBytes / 1024} KiB`;
    return undefined;
  }
}

function schemaDepth(tool: Tool): number {
  return jsonDepth([tool.inputSchema, tool.outputSchema ?? null, tool.annotations ?? null], upstreamLimits.schemaDepth + 1) - 1;
}

/** What a tool's schemas, title and annotations weigh, as JSON. */
function toolBytes(tool: Tool): number {
  return JSON.stringify([tool.inputSchema, tool.outputSchema ?? null, tool.annotations ?? null, tool.title ?? null]).length;
}

function upstreamTool(tool: Tool): UpstreamTool {
  return {
    name: tool.name,
    ...(tool.title === undefined ? {} : { title: tool.title }),
    ...(tool.description === undefined ? {} : { description: tool.description }),
    inputSchema: tool.inputSchema as Record<string, unknown>,
    ...(tool.outputSchema ? { outputSchema: tool.outputSchema as Record<string, unknown> } : {}),
    ...(tool.annotations ? { annotations: tool.annotations as Record<string, unknown> } : {}),
  };
}
