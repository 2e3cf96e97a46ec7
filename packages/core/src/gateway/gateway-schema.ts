import { z } from 'zod';
import { LimitsInputSchema } from '../limits/limits-schema.js';
import { HostRuleSchema, SecretNameSchema } from '../network/network-schema.js';
import { EnvSchema, SandboxVolumesSchema, TemplateNameSchema, TierSchema } from '../sandboxes/sandbox-schema.js';
import { jsonDepth } from '../text/json-depth.js';
import { gatewayServerNameMessage, gatewayServerNamePattern } from './gateway-tool-names.js';

export const GatewayServerNameSchema = z
  .string()
  .regex(gatewayServerNamePattern, gatewayServerNameMessage)
  .describe('the server’s name; its tools are offered as <name>__<tool>');

/** Places a host folder may not be given as: the sandbox's own system folders, or the kernel's. */
const reservedMountRoots = ['/proc', '/sys', '/dev', '/.paddock'];
const reservedMountPaths = new Set(['/', '/bin', '/boot', '/etc', '/lib', '/lib64', '/sbin', '/usr', '/var', '/run', '/tmp', '/root', '/home']);

/** Whether a host path may not be given to a gateway server (checked on the manifest's paths, and again once symlinks are resolved). */
export function isReservedHostPath(path: string): boolean {
  return reservedMountPaths.has(path) || reservedMountRoots.some((root) => path === root || path.startsWith(`${root}/`));
}

/** Whether `inner` is `outer` or lies below it. */
export function isWithinPath(inner: string, outer: string): boolean {
  return inner === outer || outer === '/' || inner.startsWith(`${outer}/`);
}

const HostPathSchema = z
  .string()
  .max(1024)
  .refine((p) => p.startsWith('/'), 'a host path is absolute')
  .refine((p) => !p.split('/').some((part) => part === '..' || part === '.') && !p.includes('\0'), 'a host path has no "." or ".." parts')
  .transform((p) => (p.length > 1 ? p.replace(/\/+$/, '').replace(/\/{2,}/g, '/') : p))
  .refine((p) => !isReservedHostPath(p), 'this folder cannot be given to a server: it would cover the sandbox’s own system folders')
  .describe('an absolute host path; the server sees it at the same path');

export const GatewayManifestSchema = z
  .object({
    $schema: z.string().max(1024).optional().describe('where editors find this schema'),
    description: z.string().max(1000).optional().describe('what the server is for, shown to operators'),
    template: TemplateNameSchema.default('base').describe('the template its sandbox starts from (build one with the server installed)'),
    tier: TierSchema.default('gvisor').describe('isolation tier of its sandbox; gvisor (the default) for code nobody here wrote'),
    limits: LimitsInputSchema.optional().describe('memory, CPU, processes and disk of its sandbox'),
    network: z
      .object({
        allow: z.array(HostRuleSchema).max(256).optional().describe('the only hosts it may reach; none means no network at all'),
        deny: z.array(HostRuleSchema).max(256).optional().describe('hosts refused even when an allow rule matches them'),
      })
      .strict()
      .optional(),
    secrets: z
      .array(SecretNameSchema)
      .max(64)
      .optional()
      .describe('secrets (paddock secret set) it may use: it sees placeholders, the proxy puts the values into requests to their hosts'),
    files: z
      .object({
        read: z.array(HostPathSchema).max(32).optional().describe('host folders or files it may read (mounted read-only)'),
        write: z.array(HostPathSchema).max(32).optional().describe('host folders or files it may read and write'),
      })
      .strict()
      // A path inside a writable one could be replaced by the server (with a symlink, say) before its next start.
      .refine(
        (f) => {
          const all = [...(f.read ?? []), ...(f.write ?? [])];
          return (f.write ?? []).every((w) => all.filter((p) => isWithinPath(p, w)).length === 1);
        },
        { message: 'a granted path may not lie inside a writable one (nor be granted twice)' },
      )
      .optional()
      .describe('host files it may reach, at the same paths; an admin’s to grant'),
    volumes: SandboxVolumesSchema.optional().describe("the tenant's volumes its sandbox mounts, read-write (one sandbox at a time) or read-only"),
    env: EnvSchema.optional().describe('environment of the server process (no secrets: use secrets)'),
    cwd: z.string().max(4096).startsWith('/').optional().describe('working directory of the server process'),
    user: z.string().max(64).optional().describe('user the server runs as (default: the template’s)'),
    callTimeoutMs: z.number().int().min(100).max(600_000).default(60_000).describe('how long one tool call may take'),
    startTimeoutMs: z.number().int().min(1000).max(600_000).default(60_000).describe('how long the server may take to answer initialize'),
  })
  .strict();
export type GatewayManifest = z.output<typeof GatewayManifestSchema>;
export type GatewayManifestInput = z.input<typeof GatewayManifestSchema>;

export const GatewayServerSetSchema = z
  .object({
    command: z
      .array(z.string().max(65_536))
      .min(1, 'name the program to run')
      .max(4096)
      .describe('argv of the server inside its sandbox; it speaks MCP on stdin and stdout'),
    manifest: GatewayManifestSchema,
    pin: z.boolean().optional().describe('pin its tool descriptions as first listed (trust on first use)'),
  })
  .strict();
export type GatewayServerSet = z.input<typeof GatewayServerSetSchema>;

export const GatewayServerStateSchema = z
  .enum(['starting', 'ready', 'restarting', 'stopped'])
  .describe('starting: its sandbox or initialize is under way; restarting: it ended and comes back after a pause');

export const ToolPinStateSchema = z
  .enum(['unpinned', 'pinned', 'changed', 'new'])
  .describe('unpinned: nothing pinned; pinned: as pinned; changed: its description or schema differs from the pinned one; new: not there when pinned');
export type ToolPinState = z.infer<typeof ToolPinStateSchema>;

export const GatewayToolSchema = z.object({
  name: z.string().describe('the name clients call: <server>__<tool>'),
  server: z.string(),
  tool: z.string().describe('the server’s own name for it'),
  title: z.string().optional(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
  pin: ToolPinStateSchema,
  digest: z.string().describe('SHA-256 of what clients read of it (title, description, schemas, annotations): what a pin records'),
  offered: z.boolean().describe('whether clients see and may call it (a changed or new tool of a pinned server is held back)'),
});
export type GatewayToolInfo = z.infer<typeof GatewayToolSchema>;

export const GatewayServerSchema = z.object({
  name: z.string(),
  command: z.array(z.string()),
  manifest: z.record(z.string(), z.unknown()).describe('the manifest in force, defaults filled in'),
  state: GatewayServerStateSchema,
  sandboxId: z.string().nullable().describe('the sandbox it runs in now'),
  serverInfo: z.object({ name: z.string(), version: z.string() }).nullable().describe('what the server said it is'),
  restarts: z.number().int().describe('times it was started again after ending'),
  lastError: z.string().nullable().describe('why it last ended or failed to start'),
  nextStartAt: z.string().nullable().describe('when a restarting server is started again'),
  readyAt: z.string().nullable(),
  pinnedAt: z.string().nullable().describe('when its tool descriptions were pinned'),
  tools: z.array(GatewayToolSchema),
  skippedTools: z.array(z.string()).describe('tools the server listed that the gateway left out, and why (at most 100 named)'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type GatewayServerInfo = z.infer<typeof GatewayServerSchema>;

/** How deeply a call's arguments may nest: enough for any tool, and what hashing them for approvals can walk. */
export const maxArgumentDepth = 64;

export const GatewayToolCallSchema = z
  .object({
    arguments: z
      .record(z.string(), z.unknown())
      .refine((a) => jsonDepth(a, maxArgumentDepth) <= maxArgumentDepth, `arguments may nest at most ${maxArgumentDepth} levels deep`)
      .optional()
      .describe('the tool’s arguments, as its inputSchema says'),
  })
  .strict();

/** An MCP CallToolResult as the server sent it. */
export const GatewayToolResultSchema = z
  .object({
    content: z.array(z.record(z.string(), z.unknown())),
    structuredContent: z.record(z.string(), z.unknown()).optional(),
    isError: z.boolean().optional(),
  })
  .loose();
export type GatewayToolResult = z.infer<typeof GatewayToolResultSchema>;

/** The manifest's JSON Schema, as published at /v1/gateway/manifest.schema.json. */
export function gatewayManifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(GatewayManifestSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    ...schema,
    title: 'Paddock gateway manifest',
    description: 'What a third-party MCP server run by the Paddock gateway may do: its sandbox, hosts, secrets, files and limits.',
  };
}
