import { z } from 'zod';
import { sandboxTimeoutBounds } from '../limits/bounds.js';
import { LimitsInputSchema, LimitsSchema } from '../limits/limits-schema.js';
import { SandboxNetworkInputSchema, SecretNameSchema } from '../network/network-schema.js';
import { SandboxVolumeSchema } from '../volumes/volume-schema.js';
import { SandboxControlSchema } from './takeover-schema.js';

export const templateNamePattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const TemplateNameSchema = z.string().regex(templateNamePattern, 'template names are lowercase letters, digits, ".", "_" or "-", at most 63 characters');

export const SandboxIdSchema = z.string().regex(/^sb-[a-z0-9]{12}$/, 'not a sandbox id');

export const LabelsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/, 'label keys are letters, digits, ".", "_", "/" or "-"'), z.string().max(256))
  .refine((r) => Object.keys(r).length <= 64, 'at most 64 labels');

export const EnvSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and "_"'), z.string().max(65_536))
  .refine((r) => Object.keys(r).length <= 512, 'at most 512 variables');

export const tiers = ['container', 'gvisor'] as const;
export const TierSchema = z.enum(tiers).describe('isolation tier: container (runc, namespaces + seccomp) or gvisor (runsc, a user-space kernel)');
export type Tier = z.infer<typeof TierSchema>;

export const TierRequestSchema = z
  .enum([...tiers, 'auto'])
  .describe("isolation tier; 'auto' (the default) picks the operator's minimum for this template and labels");
export type TierRequest = z.infer<typeof TierRequestSchema>;

export const writableLayers = ['tmpfs', 'disk'] as const;
export const WritableLayerSchema = z
  .enum(writableLayers)
  .describe(
    "where the writable layer (limits.diskMiB) lives: tmpfs (in memory, counted against memoryMiB) or disk (an ext4 file system on the host's disk); default the operator's",
  );
export type WritableLayer = z.infer<typeof WritableLayerSchema>;

export const SandboxStateSchema = z.enum(['running', 'paused', 'killed']);
export type SandboxState = z.infer<typeof SandboxStateSchema>;

export const maxSandboxTimeoutMs = sandboxTimeoutBounds.max;
export const defaultSandboxTimeoutMs = 5 * 60_000;

/** Volumes mounted in one sandbox: each once, each at its own path. */
export const SandboxVolumesSchema = z
  .array(SandboxVolumeSchema)
  .max(16)
  .refine((vs) => new Set(vs.map((v) => v.name)).size === vs.length, 'a volume is mounted once per sandbox')
  .refine((vs) => new Set(vs.map((v) => v.path.replace(/\/+$/, ''))).size === vs.length, 'two volumes at the same path');

export const SandboxCreateSchema = z
  .object({
    template: TemplateNameSchema.default('base'),
    timeoutMs: z
      .number()
      .int()
      .min(sandboxTimeoutBounds.min)
      .max(maxSandboxTimeoutMs)
      .optional()
      .describe('lifetime before the sandbox is killed; default 5 minutes'),
    limits: LimitsInputSchema.optional(),
    writableLayer: WritableLayerSchema.optional(),
    metadata: LabelsSchema.optional().describe('labels, usable as filters when listing'),
    env: EnvSchema.optional().describe('environment for every command in the sandbox'),
    tier: TierRequestSchema.optional(),
    onTimeout: z
      .enum(['kill', 'pause'])
      .optional()
      .describe('what happens at the timeout: kill (default) or pause (resume it later; it then lives the default 5 minutes)'),
    network: SandboxNetworkInputSchema.optional().describe('egress: none, or the hosts it may reach through the proxy (default: none allowed)'),
    secrets: z
      .array(SecretNameSchema)
      .max(64)
      .optional()
      .describe('secrets (set with PUT /v1/secrets/{name}) the sandbox gets as placeholders; the proxy puts the real value into requests to their hosts'),
    volumes: SandboxVolumesSchema.optional().describe("the tenant's volumes to mount: one sandbox may mount a volume read-write, or any number read-only"),
    startCommand: z
      .boolean()
      .optional()
      .describe("run the template's start command (its image's or Dockerfile's ENTRYPOINT and CMD) in the background once the sandbox is up; default true"),
  })
  .strict();
export type SandboxCreate = z.input<typeof SandboxCreateSchema>;
/** A create request once SandboxCreateSchema has parsed it (its defaults filled in). */
export type SandboxCreateRequest = z.output<typeof SandboxCreateSchema>;

export const SandboxSchema = z.object({
  id: z.string(),
  template: z.string(),
  tier: TierSchema,
  state: SandboxStateSchema,
  limits: LimitsSchema,
  writableLayer: WritableLayerSchema,
  metadata: z.record(z.string(), z.string()),
  owner: z
    .string()
    .nullable()
    .describe("who made it: the person the creating token acts for (a token's owner); null when the daemon made it itself or it predates owners"),
  createdAt: z.string().describe('ISO 8601'),
  expiresAt: z.string().nullable().describe('when the sandbox will be killed, unless extended'),
  endedAt: z.string().nullable(),
  endReason: z.string().nullable().describe('killed, timeout, oom, crashed, lost (gone while the daemon was down), rollback_failed'),
  onTimeout: z.enum(['kill', 'pause']).describe('what happens at the timeout'),
  control: SandboxControlSchema.describe('who drives it: its agent, or a person who took it over (POST /v1/sandboxes/{id}/takeover)'),
});
export type SandboxInfo = z.infer<typeof SandboxSchema>;

export const SandboxListQuerySchema = z.object({
  state: z.enum(['running', 'paused', 'killed', 'all']).optional(),
  label: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('key=value; repeat to require several'),
});

export const SandboxTimeoutSchema = z.object({ timeoutMs: z.number().int().min(sandboxTimeoutBounds.min).max(maxSandboxTimeoutMs) }).strict();

export const PoolSetSchema = z
  .object({
    template: TemplateNameSchema,
    tier: TierSchema.optional().describe('default container'),
    limits: LimitsInputSchema.optional().describe('the limits of the sandboxes it keeps; a create is served only when its limits are these'),
    size: z.number().int().min(0).max(1000).describe('how many ready sandboxes to keep'),
  })
  .strict();
export type PoolSet = z.input<typeof PoolSetSchema>;

export const PoolSchema = z.object({
  id: z.string(),
  template: z.string(),
  tier: TierSchema,
  limits: LimitsSchema,
  size: z.number().int(),
  ready: z.number().int().describe('sandboxes waiting to be claimed'),
  hits: z.number().int().describe('creates served from the pool'),
  misses: z.number().int().describe('creates that matched but found it empty'),
  lastRefillMs: z.number().nullable().describe('how long the last sandbox took to make'),
  createdAt: z.string(),
});
export type PoolInfo = z.infer<typeof PoolSchema>;
