import { UnavailableError } from '@paddock/core';
import type { Logger } from 'pino';

/**
 * A part of the daemon loaded on its first use instead of at start, so a
 * daemon nobody reaches that way does not carry its code in memory. Once
 * loaded, later calls get the same value without waiting. A load that fails
 * (a file missing from an install) answers that call with a typed error and
 * is tried again on the next one; the daemon keeps serving everything else.
 * The caller's logger (the request's) records why a load failed.
 */
export function loadOnFirstUse<T>(what: string, load: () => Promise<T>): (logger: Logger) => T | Promise<T> {
  let value: T | undefined;
  let loading: Promise<T> | undefined;
  return (logger) => {
    if (value !== undefined) return value;
    loading ??= load().then(
      (loaded) => {
        value = loaded;
        return loaded;
      },
      (err: unknown) => {
        loading = undefined;
        logger.error({ err }, `loading ${what} failed`);
        throw new UnavailableError(`${what} could not be loaded; the daemon's log says why`, { part: what });
      },
    );
    return loading;
  };
}
