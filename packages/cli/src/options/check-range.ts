import { type Bounds, formatDuration, formatSizeMiB } from '@paddock/core/client';
import { UsageError } from '../errors/cli-error.js';

type Unit = 'duration' | 'size' | 'number';

const formats: Record<Unit, (n: number) => string> = { duration: formatDuration, size: formatSizeMiB, number: String };

/**
 * Checks a flag's value against the range the API accepts, before anything is
 * asked of the daemon, so the message names the flag and speaks its units
 * (`--timeout: at most 24h`), not the API's field in ms or MiB.
 */
export function checkRange(value: number, bounds: Bounds, flag: string, unit: Unit): number {
  const format = formats[unit];
  if (value < bounds.min) throw new UsageError(`${flag}: at least ${format(bounds.min)}`);
  if (value > bounds.max) throw new UsageError(`${flag}: at most ${format(bounds.max)}`);
  return value;
}
