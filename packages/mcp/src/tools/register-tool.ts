import type { McpServer, ToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { RuntimeError } from '@paddock/core/client';
import type { z } from 'zod';
import { describeError } from '../results/describe-error.js';
import type { ToolContext } from './tool-context.js';

export interface ToolSpec<I extends z.ZodObject, O extends z.ZodObject> {
  title: string;
  description: string;
  /** Built from the core schemas, so the tool takes what the API takes. */
  input: I;
  output: O;
  annotations?: ToolAnnotations;
}

/** Does the work; whatever it throws becomes a tool error result. */
export type ToolRun<I extends z.ZodObject, O extends z.ZodObject> = (args: z.output<I>, signal: AbortSignal) => Promise<z.input<O>>;

/**
 * Registers a tool whose result is `structuredContent` (checked against its
 * output schema) plus the same JSON as text, for clients that read only text.
 * Nothing it does can throw out of the server: a failure is an `isError`
 * result naming the error's code.
 */
export function registerTool<I extends z.ZodObject, O extends z.ZodObject>(
  server: McpServer,
  context: ToolContext,
  name: string,
  spec: ToolSpec<I, O>,
  run: ToolRun<I, O>,
): void {
  // The SDK has parsed the arguments with `spec.input` before this runs.
  const callback = (args: z.output<I>, extra: { signal: AbortSignal }) => context.work.track(answer(spec.output, () => run(args, extra.signal)));
  server.registerTool(
    name,
    { title: spec.title, description: spec.description, inputSchema: spec.input, outputSchema: spec.output, annotations: spec.annotations },
    // The SDK's callback type is a conditional type TypeScript cannot resolve for a generic schema; for a zod object it is this signature.
    callback as unknown as ToolCallback<I>,
  );
}

async function answer<O extends z.ZodObject>(output: O, run: () => Promise<z.input<O>>): Promise<CallToolResult> {
  try {
    const value = await run();
    const checked = output.safeParse(value);
    if (!checked.success) throw new RuntimeError(`paddock mcp built a result that does not match its schema: ${checked.error.message}`);
    const structured = checked.data as Record<string, unknown>;
    return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
  } catch (err) {
    return { isError: true, content: [{ type: 'text', text: describeError(err) }] };
  }
}
