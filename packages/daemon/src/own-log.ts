import { type Logger, pino } from 'pino';
import type { DaemonConfig } from './config/daemon-config.js';

/** How long a log line may wait in the daemon's buffer before it is written. */
export const logFlushMs = 250;

export interface OwnLog {
  logger: Logger;
  /** Writes what is buffered and stops the flush timer. */
  close(): void;
}

/**
 * Log lines written off the event loop, and in batches: a write(2) per line
 * cost ~0.15 ms here (a VM's syscalls are dear), and a line handed to libuv's
 * thread pool one at a time still cost ~0.05 ms of CPU per API request (a
 * thread woken per line). Lines are written once 4 KiB are pending, at
 * most `logFlushMs` after they were logged, at once for a warning or an
 * error, when the daemon stops, and when the process exits (pino flushes its
 * destinations then). A daemon killed with SIGKILL
 * may lose its last quarter-second of log lines; the audit log is in the
 * database and loses nothing.
 */
export function ownLog(config: Pick<DaemonConfig, 'logLevel'>): OwnLog {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  // Ticks left to flush on: two, because a flush asked for while a write is under way does nothing.
  let flushes = 0;
  let closed = false;
  destination.once('close', () => {
    closed = true;
  });
  const timer = setInterval(() => {
    if (flushes === 0 || closed) return;
    flushes--;
    destination.flush();
  }, logFlushMs).unref();
  const logger = pino(
    {
      level: config.logLevel,
      hooks: {
        // Warnings and errors are written at once: an operator (or the process's end) should not wait for them.
        logMethod(args, method, level) {
          method.apply(this, args);
          if (level >= 40 && !closed) destination.flush();
        },
        streamWrite: (line) => {
          flushes = 2;
          return line;
        },
      },
    },
    destination,
  );
  return {
    logger,
    close() {
      clearInterval(timer);
      if (!closed) destination.flushSync();
    },
  };
}
