import { z } from 'zod';

export const PolicyProblemSchema = z.object({ file: z.string(), line: z.number(), message: z.string() });
export type PolicyProblem = z.infer<typeof PolicyProblemSchema>;

export const PolicyInfoSchema = z.object({
  id: z.string().describe('file:line'),
  name: z.string().describe('the @id annotation with file:line, or file:line alone'),
  effect: z.string(),
  annotations: z.record(z.string(), z.string()),
});
export type PolicyInfo = z.infer<typeof PolicyInfoSchema>;

export const PolicyStatusSchema = z.object({
  dir: z.string(),
  loadedAt: z.string(),
  policies: z.array(PolicyInfoSchema),
  problems: z.array(PolicyProblemSchema).describe('problems of the last reload; the last good set stays in force'),
});
export type PolicyStatus = z.infer<typeof PolicyStatusSchema>;

export const PolicyCheckRequestSchema = z.object({ files: z.record(z.string().max(255), z.string().max(1_000_000)) }).strict();
export const PolicyCheckResultSchema = z.object({ ok: z.boolean(), policies: z.number(), problems: z.array(PolicyProblemSchema) });
export type PolicyCheckResult = z.infer<typeof PolicyCheckResultSchema>;

export const PolicyTestRequestSchema = z
  .object({
    principal: z
      .string()
      .regex(/^(admin|operator|agent)(:[a-z0-9][a-z0-9-]{0,62})?$/, 'role or role:tenant, e.g. agent:ci')
      .describe('role or role:tenant; the tenant defaults to the caller’s'),
    action: z.string().min(1).describe('e.g. sandbox.exec, or exec for short'),
    resource: z.string().optional().describe('e.g. sandbox:sb-…, template:base'),
    context: z.record(z.string(), z.unknown()).optional().describe('template, tier, path, labels …'),
    cmd: z.array(z.string()).optional().describe('the command, as an argv array'),
    shell: z.string().optional().describe('the command as a shell string (run as sh -c)'),
  })
  .strict();
export type PolicyTestRequest = z.input<typeof PolicyTestRequestSchema>;

export const CommandRiskSchema = z.object({ score: z.number(), tags: z.array(z.string()), reasons: z.array(z.string()) });
export type CommandRiskInfo = z.infer<typeof CommandRiskSchema>;

export const PolicyTestResultSchema = z.object({
  decision: z.enum(['allow', 'deny', 'ask']),
  reason: z.string().nullable(),
  policies: z.array(z.string()).describe('the policies that decided'),
  risk: CommandRiskSchema.nullable(),
});
export type PolicyTestResult = z.infer<typeof PolicyTestResultSchema>;
