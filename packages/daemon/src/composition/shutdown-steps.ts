import type { Logger } from 'pino';

/**
 * The order the daemon's parts close in: one list, for stop() and for a start
 * that failed part-way alike. Each part registers its step as it opens, so a
 * failed start closes exactly what it had opened, in this same order.
 */
export const shutdownOrder = [
  // MCP sessions first: their tool calls' clean-up (a run_code sandbox to kill) still reaches the API.
  'mcp-sessions',
  // A gateway server's sandbox is no use to the next start (its stdin was this process's): it goes now.
  'gateway-servers',
  'pools',
  // Network namespaces made ahead that no sandbox took: unmounted and removed (sandboxes' own stay with them).
  'netns-spares',
  // Sandboxes keep running: the next start adopts them and arms their timeouts again.
  'sandbox-timers',
  // Live events streams end before their listeners close (a stream would hold its connection open).
  'event-streams',
  // The API's listeners and the sandboxes' egress sockets, together.
  'listeners',
  // Takeovers end with the daemon: their terminals are killed and their recordings closed and audited while the database is open.
  'takeovers',
  // Connections to agents for commands: the commands go on inside their sandboxes, for the next start to re-attach.
  'commands',
  'endpoint-file',
  'cgroup-parent',
  'audit-signing',
  // The metrics and statistics timers.
  'metrics',
  'policy-watcher',
  // The last records get a signed head, and its anchor is written, before the daemon goes.
  'audit-head',
  'telemetry',
  'database',
  // Nothing of a daemon that stopped, or failed to start, stays mounted; running sandboxes keep their agent binaries.
  'agent-binaries',
  // The helper that starts runc, mounts and network setup: after the last step that could spawn.
  'spawner',
  // Last: another daemon may take the folder only once this one has let go of everything in it.
  'state-dir-lock',
  // The log lines still buffered, once every step has logged what it did.
  'log',
] as const;

export type ShutdownStep = (typeof shutdownOrder)[number];

/** What the daemon has opened and how each part closes; owned by the composition root. */
export class ShutdownSteps {
  private readonly steps = new Map<ShutdownStep, Array<() => unknown>>();
  private done: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Registers how a part closes, once it is open; the parts under one step close together. */
  add(step: ShutdownStep, close: () => unknown): void {
    const closers = this.steps.get(step) ?? [];
    closers.push(close);
    this.steps.set(step, closers);
  }

  /** Runs the registered steps in order, once however often it is called; a step that fails is logged and the rest still run. */
  run(): Promise<void> {
    this.done ??= this.runSteps();
    return this.done;
  }

  private async runSteps(): Promise<void> {
    for (const step of shutdownOrder) {
      const closers = this.steps.get(step) ?? [];
      const results = await Promise.allSettled(closers.map(async (close) => close()));
      for (const result of results) {
        if (result.status === 'rejected') this.logger.error({ err: result.reason, step }, 'a shutdown step failed');
      }
    }
  }
}
