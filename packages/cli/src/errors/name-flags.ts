import { PaddockError } from '@paddock/sdk';
import { UsageError } from './cli-error.js';

/**
 * A request the daemon refused field by field, told in the flags the user
 * typed (`--env: environment names are …`) rather than the API's field
 * names; `flags` maps a field (or the start of its path) to its flag.
 * Anything else passes through unchanged.
 */
export function nameFlags(err: unknown, flags: Record<string, string>): unknown {
  if (!(err instanceof PaddockError) || err.code !== 'invalid_request') return err;
  const fields = err.details.fields as Array<{ path: string; message: string }> | undefined;
  if (!fields?.length) return err;
  const told = fields.map((f) => {
    const flag = flagFor(f.path, flags);
    return flag ? `${flag}: ${f.message}` : `${f.path}: ${f.message}`;
  });
  return new UsageError(told.join('; '));
}

function flagFor(path: string, flags: Record<string, string>): string | undefined {
  const parts = path.split('.');
  for (let n = parts.length; n > 0; n--) {
    const flag = flags[parts.slice(0, n).join('.')];
    if (flag) return flag;
  }
  return undefined;
}
