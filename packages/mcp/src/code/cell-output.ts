import { type CodeRunResult, keepEnds } from '@paddock/core';
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

export interface CellImage {
  data: string;
  mimeType: 'image/png' | 'image/jpeg';
}

/**
 * A cell's result for a model: output cut as a command's is, HTML and
 * scripts left out (the text and table say the same), a table past the
 * output limit left out, and images apart, to be sent as image content.
 */
export function cellOutput(run: CodeRunResult): { output: CellOutput; images: CellImage[] } {
  const images: CellImage[] = [];
  let truncated = run.truncated;
  const cut = (text: string) => {
    const kept = keepEnds(text, outputLimits.streamChars);
    truncated ||= kept.truncated;
    return kept.text;
  };
  const results = run.results.map((r) => {
    const out: z.infer<typeof CellResultSchema> = { isMainResult: r.isMainResult };
    if (r.text !== undefined) out.text = cut(r.text);
    if (r.markdown !== undefined) out.markdown = cut(r.markdown);
    if (r.json !== undefined) out.json = r.json;
    if (r.table !== undefined) {
      if (JSON.stringify(r.table).length <= outputLimits.streamChars) out.table = r.table;
      else truncated = true;
    }
    const image =
      r.png !== undefined
        ? { data: r.png, mimeType: 'image/png' as const }
        : r.jpeg !== undefined
          ? { data: r.jpeg, mimeType: 'image/jpeg' as const }
          : undefined;
    if (image) {
      images.push(image);
      out.image = image.mimeType;
    }
    if (r.truncated) out.truncated = true;
    return out;
  });
  const output: CellOutput = {
    contextId: run.contextId,
    stdout: cut(run.logs.stdout),
    stderr: cut(run.logs.stderr),
    results,
    error: run.error ? { ...run.error, traceback: cut(run.error.traceback) } : null,
    executionCount: run.executionCount,
    timedOut: run.timedOut,
    kernelDied: run.kernelDied,
    truncated,
  };
  return { output, images };
}
