import { UsageError } from '../errors/cli-error.js';
import { parseOptionalDuration } from '../options/parse-duration.js';

// The daemon lets a request wait at most this long for a human.
const maxWaitSeconds = 600;

/** --wait-approval as whole seconds (what the header carries), or undefined when not given. */
export function parseApprovalWait(text: string | undefined, flag = '--wait-approval'): number | undefined {
  const ms = parseOptionalDuration(text, flag);
  if (ms === undefined) return undefined;
  if (ms <= 0) throw new UsageError(`${flag}: give a duration above zero, e.g. 2m`);
  if (ms > maxWaitSeconds * 1000) throw new UsageError(`${flag}: at most 10m`);
  return Math.ceil(ms / 1000);
}
