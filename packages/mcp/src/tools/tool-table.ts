import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, type CallToolResult, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { describeError } from '../results/describe-error.js';

/** One tool: what tools/list shows of it, and its call, which answers every failure as a tool error. */
export interface ToolEntry {
  definition: Tool;
  call(args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult>;
}

/** Tools that live elsewhere and come and go (the gateway's third-party servers). */
export interface ToolSource {
  list(signal: AbortSignal): Promise<Tool[]>;
  /** Whether a name the table does not hold may be one of these; `call` answers for it then. */
  claims(name: string): boolean;
  call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult>;
  /** Calls `onChange` whenever the source's tools change, until `signal` aborts. */
  watch?(onChange: () => void, signal: AbortSignal): void;
}

/**
 * The server's tools: Paddock's own, declared once with zod, and those of
 * sources such as the gateway, whose JSON Schemas pass through as their
 * servers wrote them (which the SDK's McpServer cannot list). It answers
 * tools/list and tools/call on a low-level server.
 */
export class ToolTable {
  private readonly entries = new Map<string, ToolEntry>();
  private readonly sources: ToolSource[] = [];

  constructor(private readonly onSourceError: (err: unknown) => void = () => {}) {}

  add(entry: ToolEntry): void {
    this.entries.set(entry.definition.name, entry);
  }

  addSource(source: ToolSource): void {
    this.sources.push(source);
  }

  /**
   * Answers tools/list and tools/call on `server`. With `signal`, a client
   * that has listed the tools hears tools/list_changed when a source's tools
   * change, until `signal` aborts (the session ends).
   */
  serveOn(server: Server, signal?: AbortSignal): void {
    server.registerCapabilities({ tools: { listChanged: true } });
    let watching = false;
    server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => {
      if (signal && !watching) {
        watching = true;
        for (const source of this.sources) source.watch?.(() => void server.sendToolListChanged().catch(() => {}), signal);
      }
      return { tools: await this.list(extra.signal) };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => this.call(request.params.name, request.params.arguments ?? {}, extra.signal));
  }

  /** Paddock's tools, then each source's; a source that cannot answer leaves only its own tools out. */
  async list(signal: AbortSignal): Promise<Tool[]> {
    const tools = [...this.entries.values()].map((e) => e.definition);
    const names = new Set(tools.map((t) => t.name));
    for (const source of this.sources) {
      try {
        for (const tool of await source.list(signal)) {
          if (names.has(tool.name)) continue;
          names.add(tool.name);
          tools.push(tool);
        }
      } catch (err) {
        this.onSourceError(err);
      }
    }
    return tools;
  }

  async call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    try {
      const entry = this.entries.get(name);
      if (entry) return await entry.call(args, signal);
      const source = this.sources.find((s) => s.claims(name));
      if (source) return await source.call(name, args, signal);
      return toolError(`unknown_tool: there is no tool named ${name}`);
    } catch (err) {
      return toolError(describeError(err));
    }
  }
}

export function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}
