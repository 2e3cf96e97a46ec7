import { DynamicStructuredTool } from '@langchain/core/tools';
import type { Sandbox } from '@paddock/sdk';
import { callTool } from '../toolkit/call-tool.js';
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
 * LangChain tools bound to one Paddock sandbox. A result is JSON text; a
 * failure is the text `error: <code>: <message>`, so the agent's loop goes on.
 *
 *   const paddock = paddockTools()
 *   const model = chatModel.bindTools(paddock.tools)
 */
export function paddockTools(options: SandboxSessionOptions = {}): PaddockLangChainToolkit {
  const session = new SandboxSession(options);
  const tools = (Object.entries(paddockToolSpecs) as [PaddockToolName, PaddockToolSpec][]).map(
    ([name, spec]) =>
      new DynamicStructuredTool({
        name,
        description: spec.description,
        schema: spec.input,
        func: async (args: Record<string, unknown>, _run, config) => {
          const outcome = await callTool(spec, session, args, config?.signal);
          return outcome.ok ? JSON.stringify(outcome.value) : `error: ${outcome.error}`;
        },
      }),
  );
  return { tools, sandbox: () => session.sandbox(), close: () => session.close() };
}
