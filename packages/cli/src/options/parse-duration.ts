import { parseDurationMs } from '@paddock/core/client';

/** A duration flag in ms, or undefined when the flag was not given. */
export function parseOptionalDuration(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : parseDurationMs(text, flag);
}
