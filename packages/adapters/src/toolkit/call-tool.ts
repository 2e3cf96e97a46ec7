import type { z } from 'zod';
import { describeError } from './describe-error.js';
import type { PaddockToolSpec } from './paddock-tool-specs.js';
import type { SandboxSession } from './sandbox-session.js';

export type ToolOutcome<Output> = { ok: true; value: Output } | { ok: false; error: string };

/** Runs a tool; a failure comes back as the line to show the model, never as a throw. */
export async function callTool<Input extends z.ZodObject, Output>(
  spec: PaddockToolSpec<Input, Output>,
  session: SandboxSession,
  args: z.infer<Input>,
  signal?: AbortSignal,
): Promise<ToolOutcome<Output>> {
  try {
    return { ok: true, value: await spec.run(session, args, signal) };
  } catch (err) {
    return { ok: false, error: describeError(err) };
  }
}
