import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { formatDuration, PaddockError, TimeoutError, UnavailableError } from '@paddock/core';
import type { ProcessTransport, UpstreamClient, UpstreamTool } from '@paddock/mcp/gateway';
import type { CancelTimer, Clock } from '../clock/clock.js';
import { ServerLog } from './server-log.js';

/** A started server process: its stdin, how it ended, and how to end it with everything it ran. */
export interface ServerProcess {
  sandboxId: string;
  write(data: string): Promise<void>;
  /** Resolves, saying why, when the process (or its sandbox) has ended. */
  ended: Promise<string>;
  stop(): Promise<void>;
}

/** Where a launched process's output goes. */
export interface ProcessOutput {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

export type LaunchServer = (output: ProcessOutput, signal: AbortSignal) => Promise<ServerProcess>;

/** The MCP client side, loaded on first use (the daemon carries it only when it runs servers). */
export interface McpClientKit {
  ProcessTransport: typeof ProcessTransport;
  UpstreamClient: typeof UpstreamClient;
}

export type ServerState = 'starting' | 'ready' | 'restarting' | 'stopped';

export interface Backoff {
  /** Pause before the first restart; doubled for each crash that follows soon after. */
  firstMs: number;
  maxMs: number;
  /** A server that stayed up this long starts again from the first pause. */
  stableMs: number;
}

export const defaultBackoff: Backoff = { firstMs: 1000, maxMs: 60_000, stableMs: 60_000 };

export interface SupervisedServerOptions {
  name: string;
  launch: LaunchServer;
  kit: () => Promise<McpClientKit>;
  startTimeoutMs: number;
  callTimeoutMs: number;
  /** The longest tool name the server may use (its namespaced name must fit MCP's limit). */
  maxToolNameChars: number;
  clientVersion: string;
  backoff?: Backoff;
  /** When a crashed server's pause before its restart is over. */
  clock: Clock;
  /** Its state, tools or last error changed. */
  onChange: () => void;
  /** Largest JSON-RPC message read from the server. */
  maxMessageBytes?: number;
}

export interface SupervisorStatus {
  state: ServerState;
  sandboxId: string | null;
  serverInfo: { name: string; version: string } | null;
  restarts: number;
  lastError: string | null;
  nextStartAt: string | null;
  readyAt: string | null;
  tools: UpstreamTool[];
  skippedTools: string[];
}

interface Run {
  generation: number;
  abort: AbortController;
  process?: ServerProcess;
  client?: UpstreamClient;
  readySince?: number;
  refreshing?: boolean;
  refreshAgain?: boolean;
  /** The start under way; a stop waits for it, so a sandbox still being made is gone when stop returns. */
  starting?: Promise<void>;
}

/**
 * One third-party MCP server kept running: launched (in its sandbox), spoken
 * to as an MCP client, and started again with growing pauses whenever it
 * ends. Each start is a fresh sandbox, so nothing a server did to its own
 * files outlives a crash.
 */
export class SupervisedServer {
  readonly log = new ServerLog();
  private state: ServerState = 'stopped';
  private run: Run | undefined;
  private generation = 0;
  private restarts = 0;
  private crashesInARow = 0;
  private lastError: string | null = null;
  private nextStartAt: number | null = null;
  private cancelRestart: CancelTimer | undefined;
  private toolList: UpstreamTool[] = [];
  private skipped: string[] = [];
  private serverInfo: { name: string; version: string } | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly backoff: Backoff;

  constructor(private readonly options: SupervisedServerOptions) {
    this.backoff = options.backoff ?? defaultBackoff;
  }

  status(): SupervisorStatus {
    return {
      state: this.state,
      sandboxId: this.run?.process?.sandboxId ?? null,
      serverInfo: this.serverInfo,
      restarts: this.restarts,
      lastError: this.lastError,
      nextStartAt: this.nextStartAt === null ? null : new Date(this.nextStartAt).toISOString(),
      readyAt: this.run?.readySince ? new Date(this.run.readySince).toISOString() : null,
      tools: this.toolList,
      skippedTools: this.skipped,
    };
  }

  /** One tool of the server's listing, by its own name: what a call looks up, without the rest of status(). */
  tool(name: string): UpstreamTool | undefined {
    return this.toolList.find((t) => t.name === name);
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.launch();
  }

  /** Ends the running server (if any) and starts it again at once. */
  async restartNow(): Promise<void> {
    const previous = this.run;
    this.run = undefined;
    this.cancelRestart?.();
    await this.end(previous, 'restarted by an operator');
    await previous?.starting;
    this.crashesInARow = 0;
    this.restarts += 1;
    this.launch();
  }

  async stop(): Promise<void> {
    const previous = this.run;
    this.run = undefined;
    this.cancelRestart?.();
    this.nextStartAt = null;
    this.setState('stopped');
    await this.end(previous, 'stopped');
    await previous?.starting;
  }

  /**
   * One tool call, once the server is ready (waiting for a starting or
   * restarting one up to the call's deadline). `admit` runs just before the
   * call goes out, on the tools of the run that will answer it: a call that
   * waited for a restart meets that run's pins, not the last one's.
   */
  async call(tool: string, args: Record<string, unknown>, options: { signal?: AbortSignal; admit?: () => void } = {}): Promise<CallToolResult> {
    const deadline = Date.now() + this.options.callTimeoutMs;
    const run = await this.ready(deadline, options.signal);
    options.admit?.();
    const client = run.client as UpstreamClient;
    try {
      return await client.callTool(tool, args, { timeoutMs: Math.max(1, deadline - Date.now()), signal: options.signal });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      if (this.run !== run) {
        throw new UnavailableError(
          `gateway server ${this.options.name} ended during the call: ${this.lastError ?? 'it stopped'}`,
          {},
          'gateway_server_crashed',
        );
      }
      if ((err as { code?: number }).code === -32001) {
        throw new TimeoutError(`the call to ${this.options.name} timed out after ${formatDuration(this.options.callTimeoutMs)}`, {
          server: this.options.name,
          tool,
        });
      }
      throw err instanceof PaddockError
        ? err
        : new UnavailableError(`gateway server ${this.options.name}: ${(err as Error).message}`, {}, 'gateway_server_error');
    }
  }

  /** The current run once it is ready; waits for a starting or restarting server until the deadline. */
  private async ready(deadline: number, signal?: AbortSignal): Promise<Run> {
    for (;;) {
      const run = this.run;
      if (this.state === 'ready' && run?.client) return run;
      if (this.state === 'stopped') throw new UnavailableError(`gateway server ${this.options.name} is stopped`, {}, 'gateway_server_unavailable');
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) {
        throw new UnavailableError(
          `gateway server ${this.options.name} is ${this.state}${this.lastError ? ` (${this.lastError})` : ''}; try again shortly`,
          { state: this.state, nextStartAt: this.status().nextStartAt },
          'gateway_server_unavailable',
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', wake);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        signal?.addEventListener('abort', wake, { once: true });
        this.waiters.add(wake);
      });
    }
  }

  private launch(): void {
    this.nextStartAt = null;
    const run: Run = { generation: ++this.generation, abort: new AbortController() };
    this.run = run;
    this.setState('starting');
    run.starting = this.bringUp(run);
  }

  private async bringUp(run: Run): Promise<void> {
    let transport: ProcessTransport | undefined;
    try {
      const { ProcessTransport, UpstreamClient } = await this.options.kit();
      const connection = new ProcessTransport(
        { write: (data) => (run.process as ServerProcess).write(data) },
        { maxMessageBytes: this.options.maxMessageBytes ?? 8 * 1024 * 1024 },
      );
      transport = connection;
      connection.onerror = (err) => this.log.event(err.message);
      // Closed without the process ending: it broke the protocol (an endless line, say).
      connection.onclose = () => void this.crashed(run, connection.brokenBy ?? 'the connection to the server broke');
      this.log.event('starting');
      const output = { stdout: (chunk: Buffer) => connection.receive(chunk), stderr: (chunk: Buffer) => this.log.stderr(chunk) };
      run.process = await this.options.launch(output, run.abort.signal);
      // Stopped or restarted while its sandbox was being made: what was made goes too.
      if (this.run !== run) return void (await run.process.stop());
      void run.process.ended.then((why) => {
        // The exit's reason first: closing the transport would report a broken connection.
        void this.crashed(run, why);
        connection.ended();
      });
      const signal = AbortSignal.any([run.abort.signal, AbortSignal.timeout(this.options.startTimeoutMs)]);
      run.client = await UpstreamClient.connect(connection, {
        clientInfo: { name: 'paddock-gateway', version: this.options.clientVersion },
        timeoutMs: this.options.startTimeoutMs,
        signal,
        maxToolNameChars: this.options.maxToolNameChars,
        onToolsChanged: () => void this.refreshTools(run),
      });
      await this.listTools(run, signal);
      if (this.run !== run) return;
      run.readySince = this.options.clock.now();
      this.serverInfo = run.client.serverInfo;
      this.log.event(`ready: ${this.toolList.length} tools${this.serverInfo ? ` (${this.serverInfo.name} ${this.serverInfo.version})` : ''}`);
      this.setState('ready');
    } catch (err) {
      if (this.run !== run) {
        await run.process?.stop().catch(() => {});
        return;
      }
      const why = run.abort.signal.aborted ? 'stopped' : `did not start: ${describe(err, this.options.startTimeoutMs)}`;
      await this.crashed(run, transport?.brokenBy ?? why);
    }
  }

  private async listTools(run: Run, signal?: AbortSignal): Promise<void> {
    const { tools, skipped } = await (run.client as UpstreamClient).listTools({ timeoutMs: this.options.callTimeoutMs, signal });
    if (this.run !== run) return;
    const before = new Set(this.skipped);
    for (const problem of skipped) if (!before.has(problem)) this.log.event(`tool left out: ${problem}`);
    this.toolList = tools;
    this.skipped = skipped;
  }

  /**
   * The server said its tools changed: list them again (the gateway then
   * compares them with the pins). One listing at a time; notices that come
   * during one make one more listing after it.
   */
  private async refreshTools(run: Run): Promise<void> {
    if (run.refreshing) {
      run.refreshAgain = true;
      return;
    }
    run.refreshing = true;
    try {
      do {
        run.refreshAgain = false;
        if (this.run !== run || this.state !== 'ready') return;
        await this.listTools(run, run.abort.signal);
        this.log.event(`tools changed: ${this.toolList.length} tools`);
        this.options.onChange();
      } while (run.refreshAgain);
    } catch (err) {
      this.log.event(`listing tools again failed: ${(err as Error).message}`);
    } finally {
      run.refreshing = false;
    }
  }

  /** The run ended without being asked to: tidy it up and come back after a pause. */
  private async crashed(run: Run, why: string): Promise<void> {
    if (this.run !== run) return;
    this.run = undefined;
    const wasStable = run.readySince !== undefined && this.options.clock.now() - run.readySince >= this.backoff.stableMs;
    this.crashesInARow = wasStable ? 0 : this.crashesInARow + 1;
    this.lastError = why;
    const delay = Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** Math.max(0, this.crashesInARow - 1));
    this.nextStartAt = this.options.clock.now() + delay;
    this.log.event(`ended: ${why}; starting again in ${Math.round(delay / 100) / 10} s`);
    this.cancelRestart = this.options.clock.after(delay, () => {
      if (this.state !== 'restarting') return;
      this.restarts += 1;
      this.launch();
    });
    // Its sandbox goes first: nothing told of the change may keep a crashed server running.
    const ended = this.end(run, why);
    this.setState('restarting');
    await ended;
  }

  private async end(run: Run | undefined, why: string): Promise<void> {
    if (!run) return;
    run.abort.abort(new Error(why));
    await run.client?.close().catch(() => {});
    await run.process?.stop().catch(() => {});
  }

  private setState(state: ServerState): void {
    this.state = state;
    // A restarting server's last tools stay listed: a call made meanwhile waits for it.
    if (state === 'stopped') this.toolList = [];
    for (const wake of [...this.waiters]) wake();
    try {
      this.options.onChange();
    } catch (err) {
      // What listens must not break the server's own life cycle.
      this.log.event(`after a change of state: ${(err as Error).message}`);
    }
  }
}

function describe(err: unknown, startTimeoutMs: number): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/timed out|timeout/i.test(message)) return `no answer to initialize within ${formatDuration(startTimeoutMs)}`;
  return message.slice(0, 500);
}
