import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Clock } from './clock/clock.js';
import { createServices } from './composition/create-services.js';
import { recover } from './composition/recover.js';
import type { SandboxHostFactory } from './composition/runtime-host.js';
import { serveApi } from './composition/serve-api.js';
import { ShutdownSteps } from './composition/shutdown-steps.js';
import type { DaemonConfig } from './config/daemon-config.js';
import type { Services } from './http/services.js';
import { type OwnLog, ownLog } from './own-log.js';
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
