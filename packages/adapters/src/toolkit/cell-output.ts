import { cellForModel, type ModelCellResult } from '@paddock/core/client';
import type { Execution } from '@paddock/sdk';
import { maxStreamChars } from './command-output.js';

export type CellResult = ModelCellResult;

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

/** A cell's result for a model (see cellForModel), its flags said in one note. */
export function cellOutput(run: Execution): CellOutput {
  const cell = cellForModel(run, maxStreamChars);
  const notes = [
    run.timedOut && 'interrupted at its timeout (the kernel keeps its state)',
    run.kernelDied && 'the kernel died: its state is gone',
    cell.truncated && 'output truncated',
  ].filter((n): n is string => typeof n === 'string');
  return {
    contextId: run.contextId,
    stdout: cell.stdout,
    stderr: cell.stderr,
    results: cell.results,
    error: cell.error,
    ...(notes.length ? { note: notes.join('; ') } : {}),
    images: cell.images.map((i) => ({ data: i.data, mediaType: i.mimeType })),
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
