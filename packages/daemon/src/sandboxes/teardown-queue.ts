/**
 * Teardowns of sandboxes ended in bulk (a kill-all, timeouts falling due
 * together), a few at a time: thousands begun in one turn held the event loop
 * for seconds and doubled the daemon's memory (docs/benchmarks.md, density).
 * A kill of one sandbox does not wait here.
 */
export class TeardownQueue {
  private readonly waiting: Array<() => Promise<void>> = [];
  private running = 0;

  constructor(private readonly atOnce: number) {}

  /** Resolves once this sandbox's teardown has run. */
  run(ending: Ending): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(() => ending.start().then(resolve));
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.atOnce) {
      const next = this.waiting.shift();
      if (!next) return;
      this.running += 1;
      // Through a promise even if `next` throws at once: a slot is never lost.
      void Promise.resolve()
        .then(next)
        .finally(() => {
          this.running -= 1;
          this.pump();
        });
    }
  }
}

/** A sandbox marked ended whose teardown may not have begun. */
export interface Ending {
  /** Begins the teardown (once; later calls return the same promise, which never rejects). */
  start(): Promise<void>;
}
