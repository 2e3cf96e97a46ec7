import { z } from 'zod';
import { LabelsSchema, SandboxIdSchema, TemplateNameSchema, TierSchema } from '../sandboxes/sandbox-schema.js';

const ActionNameSchema = z.string().regex(/^[a-z][a-z0-9_.]{0,63}$/, 'an action is a name such as exec, files.read or sandbox.create');

/**
 * What a token may reach, beyond its role: each field given narrows it, each
 * left out leaves it as the role has it. Enforced before any policy, and seen
 * by policies as the principal's attributes.
 */
export const TokenScopeSchema = z
  .object({
    sandboxes: z.array(SandboxIdSchema).min(1).max(100).optional().describe('only these sandboxes; any other is not found'),
    labels: LabelsSchema.optional().describe('only sandboxes with all these labels; a sandbox it creates must carry them'),
    actions: z
      .array(ActionNameSchema)
      .min(1)
      .max(100)
      .optional()
      .describe('only these actions: Cedar names (sandbox.create) or short ones (exec, files.read, files.write)'),
    templates: z.array(TemplateNameSchema).min(1).max(100).optional().describe('sandboxes it creates are of these templates'),
    tiers: z.array(TierSchema).min(1).optional().describe('sandboxes it creates run in these tiers'),
    maxUses: z.number().int().min(1).max(1_000_000_000).optional().describe('API calls it may make in all'),
    maxSandboxes: z.number().int().min(0).max(1_000_000).optional().describe('sandboxes it may create (or fork) in all'),
  })
  .strict();
export type TokenScope = z.infer<typeof TokenScopeSchema>;

/** A stored scope: actions expanded to their API names. */
export const StoredTokenScopeSchema = TokenScopeSchema.extend({ actions: z.array(z.string()).optional() });
export type StoredTokenScope = z.infer<typeof StoredTokenScopeSchema>;
