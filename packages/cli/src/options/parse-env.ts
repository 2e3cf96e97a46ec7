import { parsePairs } from './parse-pairs.js';

/** -e flags: KEY=VALUE, or KEY alone to pass on the local value (skipped when unset), as docker does. */
export function parseEnv(values: string[] | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, string> | undefined {
  const pairs = values?.flatMap((v) => (v.includes('=') ? [v] : env[v] === undefined ? [] : [`${v}=${env[v]}`]));
  return parsePairs(pairs, '--env');
}
