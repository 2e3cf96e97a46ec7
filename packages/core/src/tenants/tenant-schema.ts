import { z } from 'zod';
import { tokenTtlBounds } from '../limits/bounds.js';
import { StoredTokenScopeSchema, TokenScopeSchema } from './token-scope.js';

export const roles = ['admin', 'operator', 'agent'] as const;
export const RoleSchema = z
  .enum(roles)
  .describe('admin: everything, every tenant; operator: its tenant’s sandboxes, templates, tokens and audit; agent: its tenant’s sandboxes');
export type Role = z.infer<typeof RoleSchema>;

export const tenantNamePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const TenantNameSchema = z.string().regex(tenantNamePattern, 'tenant names are lowercase letters, digits and "-", at most 63 characters');

/** Quotas of a tenant; null means no limit. */
export const QuotasSchema = z
  .object({
    maxSandboxes: z.number().int().min(0).nullable().describe('live (running or paused) sandboxes at once'),
    maxMemoryMiB: z.number().int().min(0).nullable().describe('sum of the memory limits of live sandboxes'),
    maxCpus: z.number().min(0).nullable().describe('sum of the CPU quotas of live sandboxes'),
    maxSnapshots: z.number().int().min(0).nullable().describe('snapshots kept at once'),
    maxSnapshotMiB: z.number().int().min(0).nullable().describe('total size of the snapshots kept, in MiB'),
    maxVolumes: z.number().int().min(0).nullable().describe('volumes kept at once'),
    maxVolumeMiB: z.number().int().min(0).nullable().describe('total size of its volumes, in MiB'),
  })
  .strict();
export type Quotas = z.infer<typeof QuotasSchema>;

export const TenantCreateSchema = z.object({ name: TenantNameSchema }).extend(QuotasSchema.partial().shape).strict();
export type TenantCreate = z.input<typeof TenantCreateSchema>;

export const TenantUpdateSchema = QuotasSchema.partial().strict();
export type TenantUpdate = z.input<typeof TenantUpdateSchema>;

export const TenantSchema = z
  .object({
    name: z.string(),
    createdAt: z.string(),
    usage: z.object({ sandboxes: z.number(), memoryMiB: z.number(), cpus: z.number() }).describe('what its live sandboxes hold now'),
  })
  .extend(QuotasSchema.shape);
export type TenantInfo = z.infer<typeof TenantSchema>;

/**
 * Who a token acts for: a person (`alice@example.com`, `admin`) or an agent
 * (`agent:ci-bot`). Separation of duties is by owner, not by token: nobody
 * approves a request of their own owner through another token.
 */
export const ownerPattern = /^(agent:)?[A-Za-z0-9][A-Za-z0-9._%+@-]{0,127}$/;
export const OwnerSchema = z
  .string()
  .regex(ownerPattern, 'an owner is a person (letters, digits and . _ % + @ -, e.g. alice@example.com) or an agent (agent:name)')
  .describe('who the token acts for: a person (alice@example.com) or an agent (agent:ci-bot)');
export const OwnerKindSchema = z.enum(['human', 'agent']);
export type OwnerKind = z.infer<typeof OwnerKindSchema>;

/** An owner named `agent:…` is an agent; any other is a person. */
export function ownerKindOf(owner: string): OwnerKind {
  return owner.startsWith('agent:') ? 'agent' : 'human';
}

export const TokenCreateSchema = z
  .object({
    tenant: TenantNameSchema.optional().describe("defaults to the caller's tenant"),
    role: RoleSchema,
    name: z.string().min(1).max(100).optional().describe('a note for humans, e.g. "ci agent"'),
    owner: OwnerSchema.optional().describe(
      "who it acts for. Default: an agent token is an agent of its own (agent:<token id>); any other token acts for its creator's owner. Only an admin names another person",
    ),
    scope: TokenScopeSchema.optional().describe('what it may reach beyond its role; a scoped caller mints only narrower tokens'),
    ttlMs: z
      .number()
      .int()
      .min(tokenTtlBounds.min)
      .max(tokenTtlBounds.max)
      .optional()
      .describe("how long it works; default: for ever, or as long as a caller's own expiring token"),
    e2b: z
      .boolean()
      .optional()
      .describe('a secret of E2B API key shape (e2b_ and 40 hex digits), for E2B_API_KEY: the E2B SDKs refuse keys of any other shape'),
  })
  .strict();
export type TokenCreate = z.input<typeof TokenCreateSchema>;

export const TokenSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  role: RoleSchema,
  name: z.string().nullable(),
  owner: z.string().describe('who the token acts for'),
  ownerKind: OwnerKindSchema,
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  scope: StoredTokenScopeSchema.nullable().describe('what it may reach beyond its role (actions as API names); null: all its role allows'),
  expiresAt: z.string().nullable().describe('when it stops working; null: never'),
  uses: z.number().int().describe('API calls made with it, counted when its scope limits them (maxUses)'),
  sandboxesCreated: z.number().int().describe('sandboxes created (or forked) with it'),
  scopeDigest: z.string().nullable().describe('SHA-256 (hex) of its scope and expiry, as audit records name it'),
  parent: z.string().nullable().describe('the token that minted it as a narrower copy of itself; revoking that one revokes this one'),
});
export type TokenInfo = z.infer<typeof TokenSchema>;

export const TokenCreatedSchema = TokenSchema.extend({ token: z.string().describe('the secret; shown once, stored only as a hash') });
export type TokenCreated = z.infer<typeof TokenCreatedSchema>;
