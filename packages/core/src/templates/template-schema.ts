import { z } from 'zod';
import { TemplateNameSchema } from '../sandboxes/sandbox-schema.js';

export const TemplateSchema = z.object({
  name: z.string(),
  parent: z.string().nullable(),
  layers: z.array(z.string()).describe('layer ids, top first'),
  env: z.record(z.string(), z.string()),
  workdir: z.string(),
  user: z.string(),
  createdAt: z.string(),
  sizeBytes: z.number().int(),
});
export type TemplateInfo = z.infer<typeof TemplateSchema>;

export const TemplateBuildQuerySchema = z.object({
  name: TemplateNameSchema,
  from: TemplateNameSchema.optional().describe('parent template; a FROM line in the Paddockfile wins'),
  file: z.string().max(1024).optional().describe('path of the Paddockfile inside the context; default Paddockfile'),
});

export type TemplateBuildEvent =
  | { type: 'step'; index: number; total: number; text: string }
  | { type: 'log'; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'done'; template: TemplateInfo }
  | { type: 'error'; error: { code: string; message: string; details?: Record<string, unknown> } };
