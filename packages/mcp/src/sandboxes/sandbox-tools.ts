import { SandboxCreateSchema, SandboxIdSchema, SandboxListQuerySchema, SandboxSchema } from '@paddock/core';
import { Sandbox } from '@paddock/sdk';
import { z } from 'zod';
import { registerTool } from '../tools/register-tool.js';
import type { ToolContext } from '../tools/tool-context.js';
import type { ToolTable } from '../tools/tool-table.js';

const CreateInput = SandboxCreateSchema.pick({
  template: true,
  tier: true,
  timeoutMs: true,
  limits: true,
  network: true,
  secrets: true,
  env: true,
  metadata: true,
});
const ListInput = z.object({ state: SandboxListQuerySchema.shape.state.describe('which sandboxes: running (default), paused, killed or all') }).strict();
const KillInput = z.object({ id: SandboxIdSchema.describe('the sandbox to kill') }).strict();

/** sandbox_create, sandbox_list, sandbox_kill. */
export function registerSandboxTools(tools: ToolTable, context: ToolContext): void {
  registerTool(
    tools,
    context,
    'sandbox_create',
    {
      title: 'Create a sandbox',
      description:
        'Creates an isolated Linux sandbox (template "base": Debian 12 with python3, node, bash, git, curl; working directory /work) and returns its id and info. ' +
        'It has no network until hosts are allowed (network.allow here, or network_allow later) and is killed at its timeout (default 5 minutes). ' +
        'Kill it with sandbox_kill when done.',
      input: CreateInput,
      output: SandboxSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, signal) => (await Sandbox.create({ ...context.connection, ...args, signal })).lastKnown,
  );

  registerTool(
    tools,
    context,
    'sandbox_list',
    {
      title: 'List sandboxes',
      description: 'Lists the sandboxes this token can see, with id, template, tier, state, limits and when each expires.',
      input: ListInput,
      output: z.object({ sandboxes: z.array(SandboxSchema) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args, signal) => ({ sandboxes: await Sandbox.list({ ...context.connection, state: args.state, signal }) }),
  );

  registerTool(
    tools,
    context,
    'sandbox_kill',
    {
      title: 'Kill a sandbox',
      description: 'Kills a sandbox: its processes end and its files are gone.',
      input: KillInput,
      output: SandboxSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args, signal) => {
      const sandbox = await Sandbox.connect(args.id, { ...context.connection, signal });
      await sandbox.kill({ signal });
      return sandbox.lastKnown;
    },
  );
}
