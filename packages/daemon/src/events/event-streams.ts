import type { EventBus, LiveEvent } from './event-bus.js';
import { messageFor, type SseMessage, type Viewer } from './event-visibility.js';

/** Where a client's events go: Hono's SSE stream, or anything that writes the same way. */
export interface SseSink {
  writeSSE(message: SseMessage): Promise<unknown>;
  write(text: string): Promise<unknown>;
  /** Ends the response at once, what is queued in it included. */
  abort(): void;
}

export interface EventStreamLimits {
  /** Bytes of events one client may have waiting; past it the client is dropped. */
  maxQueuedBytes: number;
  /** How often an idle stream gets a `: ping` comment (proxies close silent connections). */
  pingMs: number;
  /** How often every stream's token is checked again: one revoked or expired since ends its streams. */
  recheckMs: number;
}

type Queued = SseMessage | { ping: true };

/**
 * One subscriber: events it may see are queued as they happen and written as
 * fast as the client reads. The daemon never waits for a client: one whose
 * queue grows past the limit (it reads slower than events come) is dropped,
 * and may connect again.
 */
class EventClient {
  readonly principal: Viewer['principal'];
  readonly signedOut = () => this.viewer.stillSignedIn?.() === false;
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(
    private readonly viewer: Viewer,
    private readonly sink: SseSink,
    private readonly limits: EventStreamLimits,
    private readonly onDrop: () => void,
  ) {
    this.principal = viewer.principal;
  }

  offer(event: LiveEvent): void {
    if (this.ended) return;
    const message = messageFor(event, this.viewer);
    if (message) this.push(message, message.data.length);
  }

  push(item: Queued, bytes: number): void {
    if (this.ended) return;
    this.queue.push(item);
    this.queuedBytes += bytes;
    if (this.queuedBytes > this.limits.maxQueuedBytes) {
      this.onDrop();
      this.end();
      // A client that stopped reading holds the response's buffers too: cut it.
      this.sink.abort();
      return;
    }
    this.wake?.();
  }

  /** Writes queued events until the client goes or is dropped. */
  async pump(): Promise<void> {
    const ping = setInterval(() => this.push({ ping: true }, 8), this.limits.pingMs);
    try {
      while (!this.ended) {
        const item = this.queue.shift();
        if (!item) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = undefined;
          continue;
        }
        if ('ping' in item) {
          this.queuedBytes -= 8;
          await this.sink.write(': ping\n\n');
        } else {
          this.queuedBytes -= item.data.length;
          await this.sink.writeSSE(item);
        }
      }
    } finally {
      clearInterval(ping);
    }
  }

  end(): void {
    this.ended = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.wake?.();
  }

  /** Ends the stream and its response at once (its token no longer holds). */
  cut(): void {
    this.end();
    this.sink.abort();
  }
}

/** Every open events stream, fed from the one event bus; closed together when the daemon stops. */
export class EventStreams {
  private readonly clients = new Set<EventClient>();
  private recheck: ReturnType<typeof setInterval> | undefined;
  /** Clients dropped for reading too slowly, since start (for the logs and tests). */
  dropped = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly limits: EventStreamLimits,
    /** Whether the principal's token still holds (not revoked, not expired): a stream outlives no request's authentication. */
    private readonly stillValid: (principal: Viewer['principal']) => boolean,
  ) {}

  /**
   * Streams to one client until it disconnects (`signal`), is dropped, or the
   * daemon stops. `first` goes out before any event.
   */
  async serve(viewer: Viewer, sink: SseSink, first: SseMessage, signal: AbortSignal): Promise<void> {
    const client = new EventClient(viewer, sink, this.limits, () => {
      this.dropped += 1;
    });
    client.push(first, first.data.length);
    const unsubscribe = this.bus.subscribe((event) => client.offer(event));
    this.clients.add(client);
    this.recheck ??= setInterval(() => this.recheckTokens(), this.limits.recheckMs).unref();
    const stop = () => client.end();
    signal.addEventListener('abort', stop, { once: true });
    try {
      await client.pump();
    } finally {
      signal.removeEventListener('abort', stop);
      unsubscribe();
      this.clients.delete(client);
      if (this.clients.size === 0) {
        clearInterval(this.recheck);
        this.recheck = undefined;
      }
    }
  }

  private recheckTokens(): void {
    for (const client of this.clients) if (!this.stillValid(client.principal) || client.signedOut()) client.cut();
  }

  get open(): number {
    return this.clients.size;
  }

  closeAll(): void {
    clearInterval(this.recheck);
    for (const client of this.clients) client.end();
  }
}
