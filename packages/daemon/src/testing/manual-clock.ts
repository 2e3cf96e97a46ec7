import type { Clock } from '../clock/clock.js';

interface PendingTimer {
  dueAt: number;
  fire: () => void;
}

/** A clock that moves only when a test moves it, firing what falls due in order. */
export class ManualClock implements Clock {
  private current = Date.now();
  private readonly pending = new Set<PendingTimer>();

  now(): number {
    return this.current;
  }

  after(ms: number, fire: () => void) {
    const timer = { dueAt: this.current + Math.max(0, ms), fire };
    this.pending.add(timer);
    return () => {
      this.pending.delete(timer);
    };
  }

  /** Moves time on by `ms`, firing each timer due by then at its own time, earliest first. */
  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const next = [...this.pending].filter((t) => t.dueAt <= until).sort((a, b) => a.dueAt - b.dueAt)[0];
      if (!next) break;
      this.pending.delete(next);
      this.current = Math.max(this.current, next.dueAt);
      next.fire();
    }
    this.current = until;
  }
}
