import { z } from '@hono/zod-openapi';
import { CommandResultSchema, FileEntrySchema, ProcessInfoSchema, SandboxSchema, TemplateSchema } from '@paddock/core';

/** The error body every failing request returns. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('stable, machine-readable'),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .openapi('Error');

export const errorResponses = {
  400: { description: 'invalid request; details.fields names each failing field', content: { 'application/json': { schema: ErrorSchema } } },
  401: { description: 'missing or wrong token', content: { 'application/json': { schema: ErrorSchema } } },
  403: { description: 'denied by policy', content: { 'application/json': { schema: ErrorSchema } } },
  404: { description: 'no such sandbox, process, file or template', content: { 'application/json': { schema: ErrorSchema } } },
  409: { description: 'conflicts with the current state', content: { 'application/json': { schema: ErrorSchema } } },
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const SandboxResponse = SandboxSchema.meta({ id: 'Sandbox' });
export const CommandResultResponse = CommandResultSchema.meta({ id: 'CommandResult' });
export const ProcessInfoResponse = ProcessInfoSchema.meta({ id: 'Process' });
export const FileEntryResponse = FileEntrySchema.meta({ id: 'FileEntry' });
export const TemplateResponse = TemplateSchema.meta({ id: 'Template' });

export const SandboxIdParams = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'sb-k3j2h4g5f6d7' }) });
export const ProcessParams = SandboxIdParams.extend({
  pid: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'pid', in: 'path' } }),
});
