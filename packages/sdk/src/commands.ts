import type { CommandEvent, CommandResult, ProcessInfo } from '@paddock/core';
import { CommandExitError, CommandTimeoutError, ConnectionLostError, errorFromEvent, PaddockError } from '@paddock/core/client';
import type { ApiClient, RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';
import { type ApprovalOptions, approvalRequestHeaders, approvalWaitMs } from './approval-options.js';

export interface CommandOptions extends RequestOptions, ApprovalOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** "root" (default), "user", or a uid. */
  user?: string;
  /** Text written to stdin, which is then closed. */
  stdin?: string;
  /** Kills the command after this long (also bounds the request). */
  timeoutMs?: number;
  onStdout?: (data: string) => void;
  onStderr?: (data: string) => void;
  /**
   * Raw output as it arrives, for binary output. A stream given a bytes
   * callback is neither decoded nor kept (its result field stays empty), so
   * long outputs cost no memory.
   */
  onStdoutBytes?: (data: Uint8Array) => void;
  onStderrBytes?: (data: Uint8Array) => void;
  /** Told once the command runs (after any wait for an approval), with its pid. */
  onStart?: (pid: number) => void;
}

type OutputCallbacks = Pick<CommandOptions, 'onStdout' | 'onStderr' | 'onStdoutBytes' | 'onStderrBytes'>;

function hasOutputCallbacks(o: OutputCallbacks): boolean {
  return Boolean(o.onStdout || o.onStderr || o.onStdoutBytes || o.onStderrBytes);
}

export interface StartOptions extends CommandOptions {
  /** Keep stdin open for sendStdin(); closed otherwise. */
  openStdin?: boolean;
}

/** A string runs under `/bin/sh -c`; an array is the argv, with no shell involved. */
export type Command = string | string[];

function argv(cmd: Command): string[] {
  return typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : cmd;
}

function requestBody(cmd: Command, o: CommandOptions) {
  return { cmd: argv(cmd), env: o.env, cwd: o.cwd, user: o.user, stdin: o.stdin, timeoutMs: o.timeoutMs };
}

// A command's request must outlive the command itself, and the wait for a human before it.
const requestSlackMs = 30_000;

export class Commands {
  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
  ) {}

  /**
   * Runs a command and waits for it. Output streams to onStdout/onStderr as it
   * comes. A non-zero exit throws CommandExitError, a command killed at
   * `timeoutMs` CommandTimeoutError; both carry its output.
   */
  async run(cmd: Command, options: CommandOptions = {}): Promise<CommandResult> {
    return checked(await this.runAllowingFailure(cmd, options), options.timeoutMs);
  }

  /** Like run(), but returns non-zero exits and timeouts (`timedOut`) instead of throwing. */
  async runAllowingFailure(cmd: Command, options: CommandOptions = {}): Promise<CommandResult> {
    const call = apiCall('POST /v1/sandboxes/{id}/exec', { id: this.sandboxId });
    const spec = {
      json: requestBody(cmd, options),
      headers: approvalRequestHeaders(options),
      signal: options.signal,
      timeoutMs: options.timeoutMs ? options.timeoutMs + approvalWaitMs(options) + requestSlackMs : 0,
    };
    if (!hasOutputCallbacks(options) && !options.onStart) return this.api.json<CommandResult>(call, spec);
    const collector = new OutputCollector(options);
    let exit: Extract<CommandEvent, { type: 'exit' }>['result'] | undefined;
    let pid = -1;
    try {
      for await (const event of this.api.ndjson<CommandEvent>(call, spec)) {
        if (event.type === 'start') {
          pid = event.pid;
          options.onStart?.(pid);
        } else if (event.type === 'exit') exit = event.result;
        else if (event.type === 'error') throw errorFromEvent(event.error, 500);
        else if (event.type === 'stdout' || event.type === 'stderr') collector.take(event);
      }
    } catch (err) {
      throw naming(err, this.sandboxId, pid);
    }
    // The stream ended without the exit: the daemon went away while the command kept running.
    if (!exit) throw naming(new ConnectionLostError('the connection to Paddock closed before the command ended'), this.sandboxId, pid);
    return { ...exit, pid: exit.pid ?? pid, stdout: collector.stdout, stderr: collector.stderr };
  }

  /** Starts a command in the background. */
  async start(cmd: Command, options: StartOptions = {}): Promise<CommandHandle> {
    const info = await this.api.json<ProcessInfo>(apiCall('POST /v1/sandboxes/{id}/processes', { id: this.sandboxId }), {
      json: { ...requestBody(cmd, options), openStdin: options.openStdin },
      headers: approvalRequestHeaders(options),
      signal: options.signal,
      timeoutMs: options.approvalWaitSeconds ? approvalWaitMs(options) + requestSlackMs : undefined,
    });
    const handle = new CommandHandle(this.api, this.sandboxId, info.pid);
    // Callbacks alone have no way to hear of an error; follow() or wait() report it.
    if (hasOutputCallbacks(options)) handle.follow(options).catch(() => {});
    return handle;
  }

  /** Joins a running (or finished) process, e.g. one started by another client. */
  async connect(pid: number, options: OutputCallbacks & RequestOptions = {}): Promise<CommandHandle> {
    await this.api.json<ProcessInfo>(apiCall('GET /v1/sandboxes/{id}/processes/{pid}', { id: this.sandboxId, pid }), options);
    const handle = new CommandHandle(this.api, this.sandboxId, pid);
    if (hasOutputCallbacks(options)) handle.follow(options).catch(() => {});
    return handle;
  }

  async list(options: RequestOptions = {}): Promise<ProcessInfo[]> {
    return (await this.api.json<{ processes: ProcessInfo[] }>(apiCall('GET /v1/sandboxes/{id}/processes', { id: this.sandboxId }), options)).processes;
  }

  async kill(pid: number, signal = 'SIGKILL', options: RequestOptions = {}): Promise<void> {
    await this.api.json(apiCall('POST /v1/sandboxes/{id}/processes/{pid}/signal', { id: this.sandboxId, pid }), { ...options, json: { signal } });
  }
}

/** A background command. */
export class CommandHandle {
  private following: Promise<void> | undefined;
  private readonly collector = new OutputCollector({});

  constructor(
    private readonly api: ApiClient,
    private readonly sandboxId: string,
    readonly pid: number,
  ) {}

  /** Output received so far through follow() (stdout). */
  get stdout(): string {
    return this.collector.stdout;
  }

  get stderr(): string {
    return this.collector.stderr;
  }

  /**
   * Streams output (from the start, as far as the daemon kept it) to the
   * callbacks until the command exits. If the daemon goes away meanwhile it
   * rejects with ConnectionLostError (retryable); the command runs on, and
   * connect(pid) joins it again.
   */
  follow(callbacks: OutputCallbacks): Promise<void> {
    this.collector.setCallbacks(callbacks);
    this.following ??= (async () => {
      const call = apiCall('GET /v1/sandboxes/{id}/processes/{pid}/output', { id: this.sandboxId, pid: this.pid });
      try {
        for await (const event of this.api.ndjson<CommandEvent>(call, { query: { follow: true }, timeoutMs: 0 })) {
          if (event.type === 'stdout' || event.type === 'stderr') this.collector.take(event);
        }
      } catch (err) {
        throw naming(err, this.sandboxId, this.pid);
      }
    })();
    return this.following;
  }

  /**
   * Waits for the exit; a non-zero exit throws CommandExitError, a command
   * killed at its own timeout CommandTimeoutError, a daemon that goes away
   * meanwhile ConnectionLostError. With `timeoutMs`, a command still running
   * by then throws a TimeoutError (code wait_timeout) and goes on.
   */
  async wait(options: RequestOptions = {}): Promise<CommandResult> {
    const call = apiCall('GET /v1/sandboxes/{id}/processes/{pid}/wait', { id: this.sandboxId, pid: this.pid });
    const { timeoutMs, signal } = options;
    // The daemon ends the wait and says so; the request itself gets some slack over it.
    const spec = timeoutMs ? { query: { timeoutMs }, timeoutMs: timeoutMs + requestSlackMs, signal } : { timeoutMs: 0, signal };
    let result: CommandResult;
    try {
      result = await this.api.json<CommandResult>(call, spec);
    } catch (err) {
      throw naming(err, this.sandboxId, this.pid);
    }
    // Output still on its way to the callbacks; its own errors are follow()'s to report.
    await this.following?.catch(() => {});
    return checked(result);
  }

  async kill(signal = 'SIGKILL', options: RequestOptions = {}): Promise<void> {
    await this.api.json(apiCall('POST /v1/sandboxes/{id}/processes/{pid}/signal', { id: this.sandboxId, pid: this.pid }), { ...options, json: { signal } });
  }

  async sendStdin(data: string, options: RequestOptions = {}): Promise<void> {
    await this.api.json(apiCall('POST /v1/sandboxes/{id}/processes/{pid}/stdin', { id: this.sandboxId, pid: this.pid }), { ...options, json: { data } });
  }

  async closeStdin(options: RequestOptions = {}): Promise<void> {
    await this.api.json(apiCall('POST /v1/sandboxes/{id}/processes/{pid}/stdin', { id: this.sandboxId, pid: this.pid }), { ...options, json: { eof: true } });
  }
}

function checked(result: CommandResult, timeoutMs?: number): CommandResult {
  if (result.timedOut) throw new CommandTimeoutError(result, timeoutMs);
  if (result.exitCode !== 0) throw new CommandExitError(result);
  return result;
}

/** A lost connection names the command, so the caller can join it again by pid. */
function naming(err: unknown, sandboxId: string, pid: number): unknown {
  if (!(err instanceof PaddockError) || err.code !== 'connection_lost' || pid < 0) return err;
  return new ConnectionLostError(err.message, { ...err.details, sandboxId, pid });
}

/** Decodes base64 output events as UTF-8 text without splitting characters across chunks. */
class OutputCollector {
  stdout = '';
  stderr = '';
  private readonly out = new TextDecoder();
  private readonly err = new TextDecoder();

  constructor(private callbacks: OutputCallbacks) {}

  setCallbacks(callbacks: OutputCallbacks): void {
    this.callbacks = callbacks;
  }

  take(event: { type: 'stdout' | 'stderr'; data: string }): void {
    const bytes = base64ToBytes(event.data);
    const raw = event.type === 'stdout' ? this.callbacks.onStdoutBytes : this.callbacks.onStderrBytes;
    if (raw) raw(bytes);
    else if (event.type === 'stdout') {
      const text = this.out.decode(bytes, { stream: true });
      this.stdout += text;
      if (text) this.callbacks.onStdout?.(text);
    } else {
      const text = this.err.decode(bytes, { stream: true });
      this.stderr += text;
      if (text) this.callbacks.onStderr?.(text);
    }
  }
}

export function base64ToBytes(b64: string): Uint8Array {
  if (typeof Buffer !== 'undefined') return Buffer.from(b64, 'base64');
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
