import type { ReactNode } from 'react';
import type { Loaded } from '../views/use-fetch.js';

/** What a view shows while its data loads or when loading failed (e.g. refused by policy). */
export function LoadState<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  if (loaded.error && loaded.data === null) {
    return (
      <p role="alert" className="error refused">
        {loaded.error}
      </p>
    );
  }
  if (loaded.data === null) return <p className="loading">Loading…</p>;
  return <>{children(loaded.data)}</>;
}
