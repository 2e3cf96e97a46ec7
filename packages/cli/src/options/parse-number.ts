import { UsageError } from '../errors/cli-error.js';

/** A positive number from a flag; `integer` rejects fractions instead of rounding them away. */
export function parsePositiveNumber(text: string, flag: string, kind: 'number' | 'integer' = 'number'): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || (kind === 'integer' && !Number.isInteger(n))) {
    throw new UsageError(`${flag}: "${text}" is not a positive ${kind}`);
  }
  return n;
}
