import { NetworkUpdateSchema, SandboxIdSchema, SandboxNetworkSchema } from '@paddock/core';
import { Network } from '@paddock/sdk';
import { z } from 'zod';
import { registerTool } from '../tools/register-tool.js';
import type { ToolContext } from '../tools/tool-context.js';
import type { ToolTable } from '../tools/tool-table.js';

const NetworkAllowInput = z
  .object({
    sandboxId: SandboxIdSchema.describe('the sandbox (from sandbox_create)'),
    hosts: NetworkUpdateSchema.shape.allow
      .unwrap()
      .min(1, 'name at least one host')
      .describe('hosts to allow: pypi.org, *.pythonhosted.org, 10.0.0.5, host:port …'),
  })
  .strict();

const RulesSchema = SandboxNetworkSchema.omit({ connections: true });

export function registerNetworkAllowTool(tools: ToolTable, context: ToolContext): void {
  registerTool(
    tools,
    context,
    'network_allow',
    {
      title: 'Allow network hosts',
      description:
        'Lets a sandbox reach more hosts (through Paddock’s egress proxy; new connections follow at once) and returns the rules now in force. ' +
        'The daemon’s policy decides: a refusal (policy_denied, approval_required …) comes back as an error.',
      input: NetworkAllowInput,
      output: RulesSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    // The output schema leaves out the recent connections the daemon sends along.
    async (args, signal) => new Network(context.api, args.sandboxId).update({ allow: args.hosts }, { signal }),
  );
}
