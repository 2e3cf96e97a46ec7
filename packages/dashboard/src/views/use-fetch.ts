import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from '../format.js';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload(): void;
  /**
   * Reads again without dropping the read in flight: that one is shown when
   * it comes, then read again (what it holds may predate a change). What is
   * shown stays until the new read replaces it.
   */
  refresh(): void;
  /** Replaces the data in place (live updates). */
  set(update: (data: T | null) => T | null): void;
}

/**
 * Loads once on mount (and again on reload() or when `key` changes); the call gets an AbortSignal.
 * While `enabled` is false nothing is loaded (it stays loading).
 */
export function useFetch<T>(load: (signal: AbortSignal) => Promise<T>, key: unknown[] = [], enabled = true): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  // Whether a read is in flight, and whether another one is owed after it (refresh()).
  const inFlight = useRef(false);
  const owed = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` lists what the loader depends on
  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    setLoading(true);
    inFlight.current = true;
    owed.current = false;
    load(abort.signal)
      .then((value) => {
        setData(value);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(errorText(e));
      })
      .finally(() => {
        if (abort.signal.aborted) return;
        inFlight.current = false;
        setLoading(false);
        if (owed.current) setRound((r) => r + 1);
      });
    return () => abort.abort();
  }, [round, enabled, ...key]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  const refresh = useCallback(() => {
    if (inFlight.current) owed.current = true;
    else setRound((r) => r + 1);
  }, []);
  return { data, error, loading, reload, refresh, set: setData };
}
