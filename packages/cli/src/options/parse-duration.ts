import { type Bounds, parseDurationMs } from '@paddock/core/client';
import { checkRange } from './check-range.js';

/** A duration flag in ms, or undefined when the flag was not given; with bounds, checked against them. */
export function parseOptionalDuration(text: string | undefined, flag: string, bounds?: Bounds): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text, flag);
  return bounds ? checkRange(ms, bounds, flag, 'duration') : ms;
}
