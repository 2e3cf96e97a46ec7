import { ToolMessage } from '@langchain/core/messages';
import { DynamicStructuredTool, type DynamicStructuredToolInput, ToolInputParsingException } from '@langchain/core/tools';
import type { Sandbox } from '@paddock/sdk';
import { callTool } from '../toolkit/call-tool.js';
import { type CellOutput, isCellOutput, withoutImages } from '../toolkit/cell-output.js';
import { describeInvalidArguments } from '../toolkit/describe-invalid-arguments.js';
import { type PaddockToolName, type PaddockToolSpec, paddockToolSpecs } from '../toolkit/paddock-tool-specs.js';
import { SandboxSession, type SandboxSessionOptions } from '../toolkit/sandbox-session.js';

export interface PaddockLangChainToolkit {
  /** For `model.bindTools(tools)`, an agent, or a ToolNode. */
  tools: DynamicStructuredTool[];
  /** The sandbox the tools work in (created now if no call has needed it yet). */
  sandbox(): Promise<Sandbox>;
  /** Kills the sandbox if the toolkit created it. */
  close(): Promise<void>;
}

/**
 * LangChain throws on arguments that miss a tool's schema, which ends an
 * agent's loop over a model's typo; here the model gets them back as the
 * tool's result (`error: invalid_arguments: …`) and can try again.
 */
class PaddockTool extends DynamicStructuredTool {
  constructor(
    fields: DynamicStructuredToolInput & { name: string },
    private readonly spec: PaddockToolSpec,
  ) {
    super(fields);
  }

  // biome-ignore lint/suspicious/noExplicitAny: call() is a set of generic overloads; this override keeps all of them.
  override async call(arg: any, configArg?: any, tags?: string[]): Promise<any> {
    try {
      return await super.call(arg, configArg, tags);
    } catch (err) {
      if (!(err instanceof ToolInputParsingException)) throw err;
      const args = isToolCall(arg) ? arg.args : arg;
      const text = `error: ${describeInvalidArguments(this.name, this.spec.input, args)}`;
      const id = isToolCall(arg) ? arg.id : (configArg as { toolCall?: { id?: string } } | undefined)?.toolCall?.id;
      // Called with a tool call, a tool answers with a ToolMessage; with bare arguments, with its text.
      return id ? new ToolMessage({ content: text, tool_call_id: id, name: this.name, status: 'error' }) : text;
    }
  }
}

function isToolCall(arg: unknown): arg is { id?: string; args: unknown } {
  return typeof arg === 'object' && arg !== null && (arg as { type?: unknown }).type === 'tool_call' && 'args' in arg;
}

/**
 * LangChain tools bound to one Paddock sandbox. A result is JSON text; a
 * failure, arguments that miss the schema included, is the text
 * `error: <code>: <message>`, so the agent's loop goes on.
 *
 *   const paddock = paddockTools()
 *   const model = chatModel.bindTools(paddock.tools)
 */
export function paddockTools(options: SandboxSessionOptions = {}): PaddockLangChainToolkit {
  const session = new SandboxSession(options);
  const tools = (Object.entries(paddockToolSpecs) as [PaddockToolName, PaddockToolSpec][]).map(
    ([name, spec]) =>
      new PaddockTool(
        {
          name,
          description: spec.description,
          schema: spec.input,
          func: async (args: Record<string, unknown>, _run, config) => {
            const outcome = await callTool(spec, session, args, config?.signal);
            if (!outcome.ok) return `error: ${outcome.error}`;
            return isCellOutput(outcome.value) && outcome.value.images.length ? cellBlocks(outcome.value) : JSON.stringify(outcome.value);
          },
        },
        spec,
      ),
  );
  return { tools, sandbox: () => session.sandbox(), close: () => session.close() };
}

/** A cell with charts answers with content blocks: its JSON as text, then each image as LangChain's standard image block. */
function cellBlocks(output: CellOutput): Array<{ type: 'text'; text: string } | { type: 'image'; mimeType: string; data: string }> {
  return [
    { type: 'text', text: JSON.stringify(withoutImages(output)) },
    ...output.images.map((i) => ({ type: 'image' as const, mimeType: i.mediaType, data: i.data })),
  ];
}
