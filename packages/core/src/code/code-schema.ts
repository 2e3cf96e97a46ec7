import { z } from 'zod';
import { codeTimeoutBounds } from '../limits/bounds.js';
import { EnvSchema } from '../sandboxes/sandbox-schema.js';

export const CodeLanguageSchema = z
  .enum(['python', 'javascript', 'bash'])
  .describe('the kernel a context runs (python: ipykernel; javascript: node; bash: a bash shell)');
export type CodeLanguage = z.infer<typeof CodeLanguageSchema>;

export const CodeContextCreateSchema = z
  .object({
    language: CodeLanguageSchema.default('python'),
    cwd: z.string().max(4096).optional().describe("the kernel's working directory (default: the sandbox's)"),
    env: EnvSchema.optional().describe("variables in the kernel's environment, over the sandbox's"),
  })
  .strict();
export type CodeContextCreate = z.input<typeof CodeContextCreateSchema>;

export const CodeContextSchema = z.object({
  id: z.string(),
  language: CodeLanguageSchema,
  cwd: z.string().nullable(),
  state: z.enum(['idle', 'busy', 'dead']).describe('dead: the kernel ended; restart the context'),
  createdAt: z.string(),
});
export type CodeContext = z.infer<typeof CodeContextSchema>;

/** A cell's timeout when the run names none: it interrupts the cell, the kernel and its state stay. */
export const defaultCodeTimeoutMs = 300_000;

export const CodeRunSchema = z
  .object({
    code: z.string().max(1_048_576),
    contextId: z.string().max(64).optional().describe("the context to run in (default: the sandbox's default context of the language)"),
    language: CodeLanguageSchema.optional(),
    timeoutMs: z
      .number()
      .int()
      .min(codeTimeoutBounds.min)
      .max(codeTimeoutBounds.max)
      .optional()
      .describe('the cell is interrupted after this long (default 300000); the kernel keeps its state'),
  })
  .strict();
export type CodeRun = z.infer<typeof CodeRunSchema>;

/**
 * One rich output of a cell, by MIME type: `png`/`jpeg` are base64, `json`
 * and `table` parsed JSON (`table` is a pandas DataFrame as a Table Schema
 * data resource); `isMainResult` marks the cell's value (as against a
 * `display()` or a figure).
 */
export const CodeResultSchema = z.object({
  isMainResult: z.boolean(),
  text: z.string().optional(),
  html: z.string().optional(),
  markdown: z.string().optional(),
  latex: z.string().optional(),
  svg: z.string().optional(),
  png: z.string().optional(),
  jpeg: z.string().optional(),
  javascript: z.string().optional(),
  json: z.unknown().optional(),
  table: z.unknown().optional(),
  /** A value was cut to the size limit (its data is then partial). */
  truncated: z.boolean().optional(),
});
export type CodeResult = z.infer<typeof CodeResultSchema>;

export const CodeErrorSchema = z.object({ name: z.string(), value: z.string(), traceback: z.string() });
export type CodeError = z.infer<typeof CodeErrorSchema>;

export const CodeRunEndSchema = z.object({
  executionCount: z.number().int().nullable(),
  /** The cell ran past its timeout and was interrupted (the kernel and its state remain). */
  timedOut: z.boolean(),
  /** The kernel died during the cell: restart the context. */
  kernelDied: z.boolean(),
  /** Some output was cut to the size limits. */
  truncated: z.boolean(),
});
export type CodeRunEnd = z.infer<typeof CodeRunEndSchema>;

export const CodeRunResultSchema = CodeRunEndSchema.extend({
  contextId: z.string(),
  results: z.array(CodeResultSchema),
  logs: z.object({ stdout: z.string(), stderr: z.string() }),
  error: CodeErrorSchema.nullable(),
});
export type CodeRunResult = z.infer<typeof CodeRunResultSchema>;

/** Events of the NDJSON stream of `POST /v1/sandboxes/{id}/code/run`. */
export type CodeRunEvent =
  | { type: 'start'; contextId: string }
  | { type: 'stdout' | 'stderr'; text: string }
  | { type: 'result'; result: CodeResult }
  | { type: 'error'; error: CodeError }
  | ({ type: 'end' } & CodeRunEnd);
