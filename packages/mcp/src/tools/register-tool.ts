import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { RuntimeError } from '@paddock/core/client';
import { z } from 'zod';
import { describeError } from '../results/describe-error.js';
import type { ToolContext } from './tool-context.js';
import { type ToolTable, toolError } from './tool-table.js';

export interface ToolSpec<I extends z.ZodObject, O extends z.ZodObject> {
  title: string;
  description: string;
  /** Built from the core schemas, so the tool takes what the API takes. */
  input: I;
  output: O;
  annotations?: ToolAnnotations;
}

const extraContent = Symbol('extraContent');
type ContentBlocks = CallToolResult['content'];

/** A result with content sent after its JSON (images a cell drew): `structuredContent` stays the JSON alone. */
export function withContent<T extends object>(value: T, content: ContentBlocks): T {
  return Object.assign(value, { [extraContent]: content });
}

/** Does the work; whatever it throws becomes a tool error result. */
export type ToolRun<I extends z.ZodObject, O extends z.ZodObject> = (args: z.output<I>, signal: AbortSignal) => Promise<z.input<O>>;

/**
 * Registers a tool whose arguments are checked against its input schema and
 * whose result is `structuredContent` (checked against its output schema)
 * plus the same JSON as text, for clients that read only text. Nothing it
 * does can throw out of the server: a failure is an `isError` result naming
 * the error's code.
 */
export function registerTool<I extends z.ZodObject, O extends z.ZodObject>(
  tools: ToolTable,
  context: ToolContext,
  name: string,
  spec: ToolSpec<I, O>,
  run: ToolRun<I, O>,
): void {
  tools.add({
    definition: {
      name,
      title: spec.title,
      description: spec.description,
      inputSchema: z.toJSONSchema(spec.input, { target: 'draft-7', io: 'input' }) as { type: 'object' },
      outputSchema: z.toJSONSchema(spec.output, { target: 'draft-7', io: 'output' }) as { type: 'object' },
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    },
    call: (args, signal) => {
      const parsed = spec.input.safeParse(args);
      if (!parsed.success)
        return Promise.resolve(toolError(`invalid_request: invalid arguments for ${name}: ${describeError(parsed.error).replace(/^invalid_request: /, '')}`));
      return context.work.track(answer(spec.output, () => run(parsed.data as z.output<I>, signal)));
    },
  });
}

async function answer<O extends z.ZodObject>(output: O, run: () => Promise<z.input<O>>): Promise<CallToolResult> {
  try {
    const value = await run();
    const checked = output.safeParse(value);
    if (!checked.success) throw new RuntimeError(`paddock mcp built a result that does not match its schema: ${checked.error.message}`);
    const structured = checked.data as Record<string, unknown>;
    const extra = (value as { [extraContent]?: ContentBlocks })[extraContent] ?? [];
    return { content: [{ type: 'text', text: JSON.stringify(structured) }, ...extra], structuredContent: structured };
  } catch (err) {
    return toolError(describeError(err));
  }
}
