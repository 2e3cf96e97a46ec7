import type { z } from 'zod';

/** One line naming what is wrong with a tool's arguments, field by field, for the model to correct. */
export function describeInvalidArguments(tool: string, schema: z.ZodType, args: unknown): string {
  const parsed = schema.safeParse(args);
  const issues = parsed.success ? [] : parsed.error.issues.slice(0, 10);
  const fields = issues.map((i) => `${i.path.length ? i.path.join('.') : '(arguments)'}: ${i.message}`).join('; ');
  return `invalid_arguments: ${tool}: ${fields || 'the arguments do not match the schema'}`.replace(/\s*\n\s*/g, ' ');
}
