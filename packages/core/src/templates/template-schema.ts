import { z } from 'zod';
import { HostRulesSchema, SecretNameSchema } from '../network/network-schema.js';
import { TemplateNameSchema } from '../sandboxes/sandbox-schema.js';

export const TemplateImageSchema = z.object({
  ref: z.string().describe('what was pulled or imported: a registry reference or the archive name'),
  digest: z.string().describe('the manifest digest'),
  entrypoint: z.array(z.string()).describe("the image's Entrypoint"),
  cmd: z.array(z.string()).describe("the image's Cmd"),
});
export type TemplateImage = z.infer<typeof TemplateImageSchema>;

export const TemplateSchema = z.object({
  name: z.string(),
  parent: z.string().nullable(),
  layers: z.array(z.string()).describe('layer ids, top first'),
  env: z.record(z.string(), z.string()),
  workdir: z.string(),
  user: z.string(),
  createdAt: z.string(),
  sizeBytes: z.number().int(),
  kind: z.enum(['base', 'build', 'snapshot', 'image']).describe('built in, built from a Dockerfile or Paddockfile, a snapshot of a sandbox, or an OCI image'),
  image: TemplateImageSchema.optional().describe('the OCI image the template was made from (kind image)'),
  config: z
    .object({
      entrypoint: z.array(z.string()).optional(),
      cmd: z.array(z.string()).optional(),
      labels: z.record(z.string(), z.string()).optional(),
      exposedPorts: z.array(z.string()).optional(),
    })
    .optional()
    .describe("a Dockerfile's ENTRYPOINT, CMD, LABELs and EXPOSEd ports, kept as written; ENTRYPOINT and CMD are the start command"),
});
export type TemplateConfig = NonNullable<z.infer<typeof TemplateSchema>['config']>;

/**
 * What a sandbox of this template runs in the background once it is up: the
 * ENTRYPOINT followed by the CMD, as Docker starts a container. A template
 * built from a Dockerfile keeps them in `config` (inherited from its FROM);
 * one made from an image, in `image`.
 */
export function startCommandOf(template: Pick<TemplateInfo, 'config' | 'image'>): string[] | undefined {
  const source = template.config ?? template.image;
  const argv = [...(source?.entrypoint ?? []), ...(source?.cmd ?? [])];
  return argv.length ? argv : undefined;
}
export type TemplateInfo = z.infer<typeof TemplateSchema>;

export const TemplateBuildSchema = z
  .object({
    name: TemplateNameSchema,
    from: TemplateNameSchema.optional().describe('parent template when the Paddockfile has no FROM; default base'),
    paddockfile: z.string().min(1, 'the Paddockfile is empty').max(1_000_000).optional().describe('FROM/RUN/COPY/ENV/WORKDIR/USER'),
    dockerfile: z
      .string()
      .min(1, 'the Dockerfile is empty')
      .max(1_000_000)
      .optional()
      .describe('a Dockerfile (multi-stage, ARG, ADD …); give this or paddockfile'),
    context: z.string().optional().describe('base64 tar of the build context, needed by COPY and ADD of local files; its .dockerignore is applied'),
    buildArgs: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(65_536))
      .optional()
      .describe('values of ARGs (--build-arg)'),
    allow: HostRulesSchema.optional().describe("hosts RUN and ADD may reach through the egress proxy, besides the operator's build defaults"),
    secrets: z
      .array(SecretNameSchema)
      .max(64)
      .optional()
      .describe('secrets RUN steps get as placeholders (the proxy puts the value into requests to their hosts); never in a layer'),
    noCache: z.boolean().optional().describe('run every step, reusing no cached layer'),
  })
  .strict()
  .refine((b) => (b.paddockfile === undefined) !== (b.dockerfile === undefined), {
    message: 'give paddockfile or dockerfile (one of them)',
    path: ['dockerfile'],
  });

/** Docker-style references: registry/name:tag or registry/name@sha256:…; never starts with a dash (it becomes an argument). */
export const imageReferencePattern = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,1023}$/;

// Docker's grammar of a reference: [host[:port]/]path[:tag][@sha256:hex], the path's parts in lower case.
const pathPart = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const hostPart = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?';
const dockerReference = new RegExp(`^(?:${hostPart}/)?${pathPart}(?:/${pathPart})*(?::\\w[\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);

/** Whether a Dockerfile's FROM text reads as an image reference by Docker's rules (node:20-bookworm, 127.0.0.1:5000/team/app@sha256:…). */
export function isImageReference(text: string): boolean {
  return text.length <= 1024 && dockerReference.test(text);
}

export const TemplatePullSchema = z
  .object({
    name: TemplateNameSchema,
    image: z
      .string()
      .regex(imageReferencePattern, 'not an image reference (e.g. registry.example.com/team/app:1.2 or …@sha256:…)')
      .describe('image reference; the platform is linux/amd64'),
  })
  .strict();
export type TemplatePull = z.infer<typeof TemplatePullSchema>;

export type TemplateBuildEvent =
  | { type: 'step'; index: number; total: number; text: string; cached?: boolean }
  | { type: 'log'; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'done'; template: TemplateInfo }
  | { type: 'error'; error: { code: string; message: string; details?: Record<string, unknown> } };

export const SnapshotCreateSchema = z.object({ name: TemplateNameSchema.describe('the template the snapshot becomes') }).strict();
export type SnapshotCreate = z.input<typeof SnapshotCreateSchema>;

export const ForkCreateSchema = z
  .object({
    timeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(24 * 3_600_000)
      .optional()
      .describe('lifetime of the fork; default 5 minutes'),
  })
  .strict();
export type ForkCreate = z.input<typeof ForkCreateSchema>;

export const CheckpointSchema = z.object({
  id: z.string(),
  sandboxId: z.string(),
  createdAt: z.string(),
  sizeBytes: z.number().int().describe('size of the files written since the template'),
});
export type CheckpointInfo = z.infer<typeof CheckpointSchema>;

export const RollbackSchema = z.object({ checkpoint: z.string().regex(/^cp_[a-f0-9]{12}$/, 'not a checkpoint id') }).strict();
