import { UsageError } from '../errors/cli-error.js';

/** KEY=VALUE flags (env, labels) as a record; undefined when none were given. */
export function parsePairs(values: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const pairs: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} expects KEY=VALUE, got "${value}"`);
    pairs[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return pairs;
}
