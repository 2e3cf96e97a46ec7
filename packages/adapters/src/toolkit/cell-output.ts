import { keepEnds } from '@paddock/core/client';
import type { Execution } from '@paddock/sdk';
import { maxStreamChars } from './command-output.js';

/** One result of a cell as a model reads it; an image is named here and sent to the model as an image. */
export interface CellResult {
  isMainResult: boolean;
  text?: string;
  markdown?: string;
  json?: unknown;
  /** A pandas DataFrame as a Table Schema data resource (left out past the size limit). */
  table?: unknown;
  /** The MIME type of the image in `images` this result drew. */
  image?: 'image/png' | 'image/jpeg';
}

export interface CellImage {
  /** Base64. */
  data: string;
  mediaType: 'image/png' | 'image/jpeg';
}

export interface CellOutput {
  contextId: string;
  stdout: string;
  stderr: string;
  results: CellResult[];
  error: { name: string; value: string; traceback: string } | null;
  /** Present when the cell was interrupted at its timeout, the kernel died, or output was cut. */
  note?: string;
  /** The charts and other images, in order; each framework adapter hands them to its model as images, not as text. */
  images: CellImage[];
}

/** A cell's result for a model: long text cut as a command's, HTML left out (the text and table say it), images apart. */
export function cellOutput(run: Execution): CellOutput {
  let truncated = run.truncated;
  const cut = (text: string) => {
    const kept = keepEnds(text, maxStreamChars);
    truncated ||= kept.truncated;
    return kept.text;
  };
  const images: CellImage[] = [];
  const results = run.results.map((r) => {
    const out: CellResult = { isMainResult: r.isMainResult };
    if (r.text !== undefined) out.text = cut(r.text);
    if (r.markdown !== undefined) out.markdown = cut(r.markdown);
    if (r.json !== undefined) out.json = r.json;
    if (r.table !== undefined) {
      if (JSON.stringify(r.table).length <= maxStreamChars) out.table = r.table;
      else truncated = true;
    }
    const image =
      r.png !== undefined
        ? { data: r.png, mediaType: 'image/png' as const }
        : r.jpeg !== undefined
          ? { data: r.jpeg, mediaType: 'image/jpeg' as const }
          : undefined;
    if (image) {
      images.push(image);
      out.image = image.mediaType;
    }
    return out;
  });
  const notes = [
    run.timedOut && 'interrupted at its timeout (the kernel keeps its state)',
    run.kernelDied && 'the kernel died: its state is gone',
    truncated && 'output truncated',
  ].filter((n): n is string => typeof n === 'string');
  return {
    contextId: run.contextId,
    stdout: cut(run.logs.stdout),
    stderr: cut(run.logs.stderr),
    results,
    error: run.error ? { ...run.error, traceback: cut(run.error.traceback) } : null,
    ...(notes.length ? { note: notes.join('; ') } : {}),
    images,
  };
}

/** The output without its images, as the JSON a model reads beside them. */
export function withoutImages(output: CellOutput): Omit<CellOutput, 'images'> {
  const { images: _images, ...rest } = output;
  return rest;
}

export function isCellOutput(value: unknown): value is CellOutput {
  return typeof value === 'object' && value !== null && Array.isArray((value as CellOutput).images) && 'contextId' in value;
}
