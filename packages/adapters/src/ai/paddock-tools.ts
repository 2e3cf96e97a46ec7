import type { Sandbox } from '@paddock/sdk';
import { type Tool, tool } from 'ai';
import type { z } from 'zod';
import { callTool } from '../toolkit/call-tool.js';
import { isCellOutput, withoutImages } from '../toolkit/cell-output.js';
import { type PaddockToolName, type PaddockToolSpec, paddockToolSpecs } from '../toolkit/paddock-tool-specs.js';
import { SandboxSession, type SandboxSessionOptions } from '../toolkit/sandbox-session.js';

type Specs = typeof paddockToolSpecs;
type ModelOutput = ReturnType<NonNullable<Tool['toModelOutput']>>;
type Output<K extends PaddockToolName> = Awaited<ReturnType<Specs[K]['run']>>;

/** What a tool gives the model: its result, or `{ error }` with one line saying what went wrong. */
export type PaddockToolResult<K extends PaddockToolName> = Output<K> | { error: string };

export type PaddockAiTools = { [K in PaddockToolName]: Tool<z.infer<Specs[K]['input']>, PaddockToolResult<K>> };

export interface PaddockAiToolkit {
  /** For `generateText({ tools })` / `streamText({ tools })`. */
  tools: PaddockAiTools;
  /** The sandbox the tools work in (created now if no call has needed it yet). */
  sandbox(): Promise<Sandbox>;
  /** Kills the sandbox if the toolkit created it. */
  close(): Promise<void>;
}

/**
 * Vercel AI SDK tools bound to one Paddock sandbox:
 *
 *   const paddock = paddockTools({ create: { template: 'base' } })
 *   try { await generateText({ model, tools: paddock.tools, stopWhen: stepCountIs(5), prompt }) }
 *   finally { await paddock.close() }
 */
export function paddockTools(options: SandboxSessionOptions = {}): PaddockAiToolkit {
  const session = new SandboxSession(options);
  const specs = paddockToolSpecs;
  const run =
    <Input extends z.ZodObject, Result>(spec: PaddockToolSpec<Input, Result>) =>
    async (args: z.infer<Input>, { abortSignal }: { abortSignal?: AbortSignal }): Promise<Result | { error: string }> => {
      const outcome = await callTool(spec, session, args, abortSignal);
      return outcome.ok ? outcome.value : { error: outcome.error };
    };
  return {
    tools: {
      run_command: tool({ description: specs.run_command.description, inputSchema: specs.run_command.input, execute: run(specs.run_command) }),
      run_code: tool({ description: specs.run_code.description, inputSchema: specs.run_code.input, execute: run(specs.run_code), toModelOutput: modelOutput }),
      read_file: tool({ description: specs.read_file.description, inputSchema: specs.read_file.input, execute: run(specs.read_file) }),
      write_file: tool({ description: specs.write_file.description, inputSchema: specs.write_file.input, execute: run(specs.write_file) }),
      list_files: tool({ description: specs.list_files.description, inputSchema: specs.list_files.input, execute: run(specs.list_files) }),
    },
    sandbox: () => session.sandbox(),
    close: () => session.close(),
  };
}

/** A cell's charts go to the model as images (media parts) after the JSON; every other result as JSON. */
function modelOutput(output: unknown): ModelOutput {
  // The SDK's default for a tool without toModelOutput: the result as JSON.
  if (!isCellOutput(output)) return { type: 'json', value: output as Extract<ModelOutput, { type: 'json' }>['value'] };
  return {
    type: 'content',
    value: [
      { type: 'text', text: JSON.stringify(withoutImages(output)) },
      ...output.images.map((i) => ({ type: 'media' as const, data: i.data, mediaType: i.mediaType })),
    ],
  };
}
