/** Bytes a slow client may leave queued before the producer is asked to hold back. */
const highWaterBytes = 1024 * 1024;

/**
 * Events from a producer (a process's output, a watcher) to one streamed
 * answer, in order, flushed as they come. push() says false once the client
 * lags by more than a MiB; `onDrain` then runs when it has caught up. Idle
 * for `keepAliveMs`, the stream gets a keep-alive event, so proxies and the
 * SDKs' idle timers see it is alive.
 */
export class EventQueue<T> {
  private readonly items: { item: T; bytes: number }[] = [];
  private queuedBytes = 0;
  private waiting: (() => void) | undefined;
  private ended = false;
  private failure: unknown;
  private held = false;

  constructor(private readonly options: { keepAlive?: { ms: number; event: () => T }; onDrain?: () => void; sizeOf?: (item: T) => number } = {}) {}

  push(item: T): boolean {
    if (this.ended) return true;
    const bytes = this.options.sizeOf?.(item) ?? 0;
    this.items.push({ item, bytes });
    this.queuedBytes += bytes;
    this.wake();
    if (this.queuedBytes > highWaterBytes) this.held = true;
    return !this.held;
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(err: unknown): void {
    this.failure = err;
    this.end();
  }

  /** The events until end() (or until the caller stops reading); a failure is thrown after what came before it. */
  async *drain(signal: AbortSignal): AsyncGenerator<T> {
    const onAbort = () => this.end();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const next = this.items.shift();
        if (next) {
          this.queuedBytes -= next.bytes;
          if (this.held && this.queuedBytes <= highWaterBytes / 2) {
            this.held = false;
            this.options.onDrain?.();
          }
          yield next.item;
          continue;
        }
        if (this.ended) break;
        const idle = await this.idle();
        if (idle && this.options.keepAlive) yield this.options.keepAlive.event();
      }
      if (this.failure !== undefined && !signal.aborted) throw this.failure;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Waits for an event or the end; true when the keep-alive interval passed first. */
  private idle(): Promise<boolean> {
    return new Promise((resolve) => {
      const ms = this.options.keepAlive?.ms;
      const timer = ms ? setTimeout(() => finish(true), ms) : undefined;
      const finish = (timedOut: boolean) => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(timedOut);
      };
      this.waiting = () => finish(false);
    });
  }

  private wake(): void {
    this.waiting?.();
  }
}

/** The keep-alive interval a client asks for (seconds, in the Keepalive-Ping-Interval header), within sane bounds. */
export function keepAliveMs(header: string | null): number {
  const seconds = Number(header ?? 0);
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(Math.max(seconds, 1), 300) * 1000;
}
