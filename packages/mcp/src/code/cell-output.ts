import { type CodeRunResult, cellForModel, type ModelCellImage } from '@paddock/core';
import { z } from 'zod';
import { outputLimits } from '../results/output-limits.js';

/** One of a cell's results as a model reads it: text forms kept, each image sent as image content instead. */
export const CellResultSchema = z.object({
  isMainResult: z.boolean(),
  text: z.string().optional(),
  markdown: z.string().optional(),
  json: z.unknown().optional(),
  table: z.unknown().optional().describe('a pandas DataFrame as a Table Schema data resource (left out past the size limit)'),
  image: z.string().optional().describe('the MIME type of an image that follows as image content'),
  truncated: z.boolean().optional(),
});

export const CellOutputSchema = z.object({
  contextId: z.string().describe('the code context the cell ran in: its variables are there for the next run_code with this contextId'),
  stdout: z.string(),
  stderr: z.string(),
  results: z.array(CellResultSchema),
  error: z.object({ name: z.string(), value: z.string(), traceback: z.string() }).nullable(),
  executionCount: z.number().int().nullable(),
  timedOut: z.boolean(),
  kernelDied: z.boolean(),
  truncated: z.boolean(),
});
export type CellOutput = z.infer<typeof CellOutputSchema>;

export type CellImage = ModelCellImage;

/** A cell's result for a model, its images apart to be sent as image content (see cellForModel). */
export function cellOutput(run: CodeRunResult): { output: CellOutput; images: CellImage[] } {
  const { images, ...cell } = cellForModel(run, outputLimits.streamChars);
  const output: CellOutput = {
    contextId: run.contextId,
    ...cell,
    executionCount: run.executionCount,
    timedOut: run.timedOut,
    kernelDied: run.kernelDied,
  };
  return { output, images };
}
