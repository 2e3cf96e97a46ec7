/** Cancels a timer set with Clock.after; calling it again does nothing. */
export type CancelTimer = () => void;

/**
 * The daemon's time: what "now" is and when a deadline falls due. Passed in,
 * so a test can move time on instead of waiting for it.
 */
export interface Clock {
  now(): number;
  /** Calls `fire` once `ms` have passed; the timer never holds the process open. */
  after(ms: number, fire: () => void): CancelTimer;
}

/** The wall clock and Node's timers. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    after(ms, fire) {
      const timer = setTimeout(fire, ms);
      timer.unref();
      return () => clearTimeout(timer);
    },
  };
}
