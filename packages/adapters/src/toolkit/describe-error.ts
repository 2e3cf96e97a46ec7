import { PaddockError } from '@paddock/core/client';

/**
 * The one line a model gets when a tool fails, stable code first
 * (`file_not_found: …`): something it can act on, where a thrown error would
 * end the agent's loop.
 */
export function describeError(err: unknown): string {
  const text =
    err instanceof PaddockError
      ? `${err.code}: ${err.message}`
      : err instanceof Error && err.name === 'AbortError'
        ? 'aborted: the call was cancelled'
        : `internal_error: ${err instanceof Error ? err.message : String(err)}`;
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
