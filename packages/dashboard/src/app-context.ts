import { createContext, useContext, useEffect, useRef } from 'react';
import type { ApiClient } from './api/api-client.js';
import type { LiveEvents, LiveTopic, Session } from './api/types.js';
import type { LiveEventsHub } from './live/live-events.js';

export interface AppServices {
  api: ApiClient;
  live: LiveEventsHub;
  session: Session;
  /** Shows a one-line message in the page's status region (read out by screen readers). */
  notify(message: string, kind?: 'ok' | 'error'): void;
}

export const AppContext = createContext<AppServices | null>(null);

export function useApp(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error('useApp outside the signed-in app');
  return services;
}

/** Calls `listener` for each live event of a topic while the component is mounted. */
export function useLive<T extends LiveTopic>(topic: T, listener: (data: LiveEvents[T]) => void): void {
  const { live } = useApp();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => live.subscribe(topic, (data) => latest.current(data)), [live, topic]);
}

/**
 * Calls `reload` whenever the live stream is (again) subscribed, so a list
 * loaded before that, or while it was down, misses nothing that happened meanwhile.
 */
export function useReloadOnLive(reload: () => void): void {
  const { live } = useApp();
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(() => live.onReady(() => latest.current()), [live]);
}
