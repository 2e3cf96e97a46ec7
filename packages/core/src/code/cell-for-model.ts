import { keepEnds } from '../text/keep-ends.js';
import type { CodeRunResult } from './code-schema.js';

/** One of a cell's results as a model reads it: text forms kept, an image named here and sent apart as image content. */
export interface ModelCellResult {
  isMainResult: boolean;
  text?: string;
  markdown?: string;
  json?: unknown;
  /** A pandas DataFrame as a Table Schema data resource (left out past the size limit). */
  table?: unknown;
  /** The MIME type of the image this result drew, which follows as image content. */
  image?: 'image/png' | 'image/jpeg';
  truncated?: boolean;
}

export interface ModelCellImage {
  /** Base64. */
  data: string;
  mimeType: 'image/png' | 'image/jpeg';
}

export interface ModelCell {
  stdout: string;
  stderr: string;
  results: ModelCellResult[];
  error: { name: string; value: string; traceback: string } | null;
  /** True when the kernel cut output or a text here was cut to `maxChars`. */
  truncated: boolean;
  /** The charts and other images, in order. */
  images: ModelCellImage[];
}

/**
 * A cell's result for a model (MCP tools and framework adapters): each text
 * cut to its ends as a command's output is, HTML and scripts left out (the
 * text and table say the same), a table past the limit left out, images
 * apart so each caller can send them as its protocol's image content.
 */
export function cellForModel(run: CodeRunResult, maxChars: number): ModelCell {
  let truncated = run.truncated;
  const cut = (text: string) => {
    const kept = keepEnds(text, maxChars);
    truncated ||= kept.truncated;
    return kept.text;
  };
  const images: ModelCellImage[] = [];
  const results = run.results.map((r) => {
    const out: ModelCellResult = { isMainResult: r.isMainResult };
    if (r.text !== undefined) out.text = cut(r.text);
    if (r.markdown !== undefined) out.markdown = cut(r.markdown);
    if (r.json !== undefined) out.json = r.json;
    if (r.table !== undefined) {
      if (JSON.stringify(r.table).length <= maxChars) out.table = r.table;
      else truncated = true;
    }
    const image = imageOf(r);
    if (image) {
      images.push(image);
      out.image = image.mimeType;
    }
    if (r.truncated) out.truncated = true;
    return out;
  });
  return {
    stdout: cut(run.logs.stdout),
    stderr: cut(run.logs.stderr),
    results,
    error: run.error ? { ...run.error, traceback: cut(run.error.traceback) } : null,
    truncated,
    images,
  };
}

function imageOf(r: CodeRunResult['results'][number]): ModelCellImage | undefined {
  if (r.png !== undefined) return { data: r.png, mimeType: 'image/png' };
  if (r.jpeg !== undefined) return { data: r.jpeg, mimeType: 'image/jpeg' };
  return undefined;
}
