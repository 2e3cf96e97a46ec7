import type { LiveEvents, LiveTopic } from '../api/types.js';

/** The URL of GET /v1/events for the given topics, made by the API client from the route table. */
export type EventsUrl = (topics: string) => string;

type Listener<T extends LiveTopic> = (data: LiveEvents[T]) => void;

const topics: LiveTopic[] = ['sandbox', 'metrics', 'approval', 'audit', 'stats'];

/**
 * One EventSource for the whole app (the browser sends the session cookie
 * with it); views subscribe to its topics. It reconnects on its own after a
 * drop; `onStatus` tells the header whether updates are live.
 */
export class LiveEventsHub {
  private source: EventSource | null = null;
  private readonly listeners = new Map<LiveTopic, Set<Listener<LiveTopic>>>();
  private readonly readyListeners = new Set<() => void>();

  constructor(
    private readonly eventsUrl: EventsUrl,
    private readonly onStatus: (live: boolean) => void,
  ) {}

  start(): void {
    if (this.source) return;
    const source = new EventSource(this.eventsUrl(topics.join(',')), { withCredentials: true });
    source.onopen = () => this.onStatus(true);
    source.onerror = () => this.onStatus(false);
    // The daemon says `ready` once the stream is subscribed (at each reconnect too): from then on nothing is missed.
    source.addEventListener('ready', () => {
      for (const listener of this.readyListeners) listener();
    });
    for (const topic of topics) {
      source.addEventListener(topic, (event) => {
        let data: unknown;
        try {
          data = JSON.parse((event as MessageEvent<string>).data);
        } catch {
          return;
        }
        for (const listener of this.listeners.get(topic) ?? []) listener(data as LiveEvents[LiveTopic]);
      });
    }
    this.source = source;
  }

  stop(): void {
    this.source?.close();
    this.source = null;
    this.onStatus(false);
  }

  /** Calls `listener` each time the stream is (again) subscribed: what happened before it may not have come as events. */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  subscribe<T extends LiveTopic>(topic: T, listener: Listener<T>): () => void {
    let set = this.listeners.get(topic);
    if (!set) {
      set = new Set();
      this.listeners.set(topic, set);
    }
    set.add(listener as Listener<LiveTopic>);
    return () => set.delete(listener as Listener<LiveTopic>);
  }
}
