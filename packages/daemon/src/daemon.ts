import { mkdir } from 'node:fs/promises';
import { type Logger, pino } from 'pino';
import type { Clock } from './clock/clock.js';
import { createServices } from './composition/create-services.js';
import { recover } from './composition/recover.js';
import type { SandboxHostFactory } from './composition/runtime-host.js';
import { serveApi } from './composition/serve-api.js';
import { ShutdownSteps } from './composition/shutdown-steps.js';
import type { DaemonConfig } from './config/daemon-config.js';
import type { Services } from './http/services.js';
import { lockStateDir } from './store/state-dir-lock.js';

export type { Endpoint } from './composition/serve-api.js';

export interface RunningDaemon {
  url: string;
  socketPath: string;
  token: string;
  services: Services;
  logger: Logger;
  stop(): Promise<void>;
}

/** What a daemon takes besides its config; each has a default for the real thing. */
export interface StartOptions {
  logger?: Logger;
  /** Where telemetry reads its OTEL_* settings (process.env). */
  env?: NodeJS.ProcessEnv;
  /** What runs the sandboxes (runc, runsc and the static agent). */
  sandboxHost?: SandboxHostFactory;
  /** When sandbox timeouts and gateway restarts fall due (the wall clock). */
  clock?: Clock;
  /** The templates the daemon carries, as Dockerfiles by name (its own: code-interpreter, desktop). */
  builtInDockerfiles?: Readonly<Record<string, string>>;
}

/**
 * The daemon's composition root: takes the state folder, builds every part,
 * picks up what a previous daemon left, and listens. Whatever was opened is
 * closed by one ordered list of steps, on stop() and on a failed start alike.
 */
export async function startDaemon(config: DaemonConfig, options: StartOptions = {}): Promise<RunningDaemon> {
  const own = options.logger ? undefined : ownLog(config);
  const logger = options.logger ?? (own as OwnLog).logger;
  await mkdir(config.stateDir, { recursive: true });
  // Before anything reads or changes the folder: a second daemon on it would
  // adopt, reconcile and kill the first one's sandboxes (probe G2).
  const lock = lockStateDir(config.stateDir);
  const shutdown = new ShutdownSteps(logger);
  shutdown.add('state-dir-lock', () => lock.release());
  shutdown.add('log', () => own?.close());
  try {
    const parts = await createServices(config, {
      logger,
      env: options.env ?? process.env,
      shutdown,
      sandboxHost: options.sandboxHost,
      clock: options.clock,
      builtInDockerfiles: options.builtInDockerfiles,
    });
    await recover(parts, logger);
    const url = await serveApi(config, parts, { logger, shutdown });
    return { url, socketPath: config.socketPath, token: parts.token, services: parts.services, logger, stop: () => shutdown.run() };
  } catch (err) {
    await shutdown.run();
    throw err;
  }
}

/** How long a log line may wait in the daemon's buffer before it is written. */
const logFlushMs = 250;

interface OwnLog {
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
function ownLog(config: DaemonConfig): OwnLog {
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
