import type {
  CheckpointInfo,
  CodeContext,
  CodeContextCreate,
  HandbackResponse,
  LimitsInput,
  SandboxInfo,
  SandboxMetrics,
  SandboxNetworkInput,
  SandboxState,
  SandboxVolume,
  TakeoverRequest,
  TakeoverResponse,
  TemplateInfo,
  Tier,
  TierRequest,
  TokenCreated,
  WritableLayer,
} from '@paddock/core';
import { describeSandboxEnd, SandboxNotFoundError } from '@paddock/core/client';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';
import { Code, type Execution, type RunCodeOptions } from './code.js';
import { Commands } from './commands.js';
import { Browser, Desktop } from './desktop.js';
import { Files } from './files.js';
import { Network } from './network.js';
import { Ports } from './ports.js';
import { Pty } from './pty.js';
import { Recordings } from './recordings.js';

export interface SandboxCreateOptions extends ConnectionOptions, RequestOptions {
  /** Template name; default "base". */
  template?: string;
  /** Lifetime before the sandbox is killed (default 5 minutes). Not the request timeout. */
  timeoutMs?: number;
  limits?: LimitsInput;
  /**
   * Where the writable layer (`limits.diskMiB`) lives: 'tmpfs' (in memory: fast, counted against `memoryMiB`)
   * or 'disk' (an ext4 file system on the host's disk, outside the memory limit). Default: the operator's.
   */
  writableLayer?: WritableLayer;
  /** Labels, usable as filters when listing. */
  metadata?: Record<string, string>;
  /** Environment for every command. */
  env?: Record<string, string>;
  /**
   * Isolation tier: 'container' (runc), 'gvisor' (runsc, for hostile code) or
   * 'auto' (default: the operator's minimum for this template and labels).
   * Asking for a tier below that minimum is refused.
   */
  tier?: TierRequest;
  /**
   * Egress. Default: through the proxy, to no host until some are allowed.
   * `{ allow: ['pypi.org', '*.pythonhosted.org'] }`, or `{ mode: 'none' }` for no network at all.
   */
  network?: SandboxNetworkInput;
  /** Secrets (see Secrets.set) the sandbox holds as placeholders; the proxy swaps in the value for their hosts only. */
  secrets?: string[];
  /** At the timeout: 'kill' (default), or 'pause' to keep it frozen until resumed (it then lives the default 5 minutes). */
  onTimeout?: 'kill' | 'pause';
  /** Volumes (see Volumes.create) to mount: `[{ name: 'repo', path: '/work' }, { name: 'cache', path: '/data', readOnly: true }]`. */
  volumes?: SandboxVolume[];
  /**
   * Run the template's start command (the ENTRYPOINT and CMD of its image or
   * Dockerfile) in the background once the sandbox is up, as `docker run`
   * does; it shows in `commands.list()`. Default true; false skips it.
   */
  startCommand?: boolean;
}

export interface ScopedTokenOptions {
  /** What the token may do here: exec, files.read, files.write, or action names such as sandbox.kill. */
  actions: string[];
  /** How long it works (default: as long as the token in use). */
  ttlMs?: number;
  /** API calls it may make in all. */
  maxUses?: number;
  /** A note for humans, shown by `paddock token ls`. */
  name?: string;
}

export interface SandboxListOptions extends ConnectionOptions, RequestOptions {
  state?: SandboxState | 'all';
  metadata?: Record<string, string>;
}

/**
 * A sandbox: an isolated Linux machine for one task.
 *
 *   const sbx = await Sandbox.create({ template: 'base' })
 *   const r = await sbx.commands.run(['python3', '-c', 'print(2+2)'])
 *   await sbx.kill()
 */
export class Sandbox {
  readonly commands: Commands;
  readonly files: Files;
  readonly pty: Pty;
  readonly network: Network;
  readonly ports: Ports;
  /** The screen, mouse and keyboard of a desktop sandbox. */
  readonly desktop: Desktop;
  /** Its Chromium over CDP. */
  readonly browser: Browser;
  /** Recordings of the terminals people took this sandbox over with. */
  readonly recordings: Recordings;
  /** Code contexts: stateful kernels; runCode and createCodeContext are short for the usual calls. */
  readonly code: Code;

  private constructor(
    private readonly api: ApiClient,
    private info: SandboxInfo,
  ) {
    this.commands = new Commands(api, info.id);
    this.files = new Files(api, info.id);
    this.pty = new Pty(api, info.id);
    this.network = new Network(api, info.id);
    this.ports = new Ports(api, info.id);
    this.desktop = new Desktop(api, info.id);
    this.browser = new Browser(api, info.id);
    this.recordings = new Recordings(api, info.id);
    this.code = new Code(api, info.id);
  }

  /**
   * Runs a cell of code in a stateful kernel (the sandbox's default Python
   * context, or `options.context`): variables stay for the next cell, and
   * charts and tables come back as rich results.
   *
   *   await sbx.runCode('import pandas as pd; df = pd.DataFrame({"x": [1, 2]})')
   *   const r = await sbx.runCode('df.plot(); df')   // r.results: [{ png }, { text, html, table }]
   */
  runCode(code: string, options: RunCodeOptions = {}): Promise<Execution> {
    return this.code.run(code, options);
  }

  /** A context of its own (separate variables), with its own working directory and environment. */
  createCodeContext(request: CodeContextCreate = {}, options: RequestOptions = {}): Promise<CodeContext> {
    return this.code.createContext(request, options);
  }

  get id(): string {
    return this.info.id;
  }

  /** The isolation tier the sandbox runs on. */
  get tier(): Tier {
    return this.info.tier;
  }

  /** What was known at the last call; getInfo() asks again. */
  get lastKnown(): SandboxInfo {
    return this.info;
  }

  // Printed or serialized, a sandbox shows what it is, never the token its client holds.
  toJSON(): SandboxInfo {
    return this.info;
  }

  toString(): string {
    return `Sandbox(${this.id})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Sandbox { id: ${JSON.stringify(this.id)}, tier: ${JSON.stringify(this.tier)}, state: ${JSON.stringify(this.info.state)} }`;
  }

  static async create(options: SandboxCreateOptions = {}): Promise<Sandbox> {
    const api = new ApiClient(options);
    const info = await api.json<SandboxInfo>(apiCall('POST /v1/sandboxes'), {
      json: {
        template: options.template ?? 'base',
        timeoutMs: options.timeoutMs,
        limits: options.limits,
        writableLayer: options.writableLayer,
        metadata: options.metadata,
        env: options.env,
        tier: options.tier,
        onTimeout: options.onTimeout,
        network: options.network,
        secrets: options.secrets,
        startCommand: options.startCommand,
        volumes: options.volumes,
      },
      signal: options.signal,
      // The lifetime option is not the request's timeout.
      timeoutMs: undefined,
    });
    return new Sandbox(api, info);
  }

  /** Reconnects to a running sandbox by id (from another process, say). */
  static async connect(id: string, options: ConnectionOptions & RequestOptions = {}): Promise<Sandbox> {
    const api = new ApiClient(options);
    const info = await api.json<SandboxInfo>(apiCall('GET /v1/sandboxes/{id}', { id }), options);
    if (info.state === 'killed') throw new SandboxNotFoundError(id, `${describeSandboxEnd(info.endReason)} and no longer exists`);
    return new Sandbox(api, info);
  }

  static async list(options: SandboxListOptions = {}): Promise<SandboxInfo[]> {
    const api = new ApiClient(options);
    const label = Object.entries(options.metadata ?? {}).map(([k, v]) => `${k}=${v}`);
    return (await api.json<{ sandboxes: SandboxInfo[] }>(apiCall('GET /v1/sandboxes'), { ...options, query: { state: options.state, label } })).sandboxes;
  }

  /** Kills every sandbox of the caller; returns their ids. */
  static async killAll(options: ConnectionOptions & RequestOptions = {}): Promise<string[]> {
    return (await new ApiClient(options).json<{ killed: string[] }>(apiCall('DELETE /v1/sandboxes'), options)).killed;
  }

  /** The host a port of this sandbox is reached at, `<port>-<id>.<domain>:<daemon port>` (E2B's getHost). */
  getHost(port: number, options: RequestOptions = {}): Promise<string> {
    return this.ports.getHost(port, options);
  }

  async getInfo(options: RequestOptions = {}): Promise<SandboxInfo> {
    this.info = await this.api.json<SandboxInfo>(apiCall('GET /v1/sandboxes/{id}', { id: this.id }), options);
    return this.info;
  }

  async isRunning(options: RequestOptions = {}): Promise<boolean> {
    return (await this.getInfo(options)).state === 'running';
  }

  /** Sets the time left before the sandbox is killed, counted from now. */
  async setTimeout(timeoutMs: number, options: RequestOptions = {}): Promise<void> {
    this.info = await this.api.json<SandboxInfo>(apiCall('POST /v1/sandboxes/{id}/timeout', { id: this.id }), { ...options, json: { timeoutMs } });
  }

  /**
   * Takes the sandbox over from its agent (a person's token only): starts a
   * recorded terminal that only you may type into and marks the sandbox
   * human-controlled. Join the terminal with `sbx.pty.connect(pid, …)`;
   * `handback()` ends it.
   */
  async takeover(input: TakeoverRequest = {}, options: RequestOptions = {}): Promise<TakeoverResponse> {
    return this.api.json<TakeoverResponse>(apiCall('POST /v1/sandboxes/{id}/takeover', { id: this.id }), { ...options, json: input });
  }

  /** Hands a taken-over sandbox back to its agent: the terminal is killed; the recording's size and SHA-256 come back. */
  async handback(options: RequestOptions = {}): Promise<HandbackResponse> {
    return this.api.json<HandbackResponse>(apiCall('POST /v1/sandboxes/{id}/handback', { id: this.id }), options);
  }

  async pause(options: RequestOptions = {}): Promise<void> {
    this.info = await this.api.json<SandboxInfo>(apiCall('POST /v1/sandboxes/{id}/pause', { id: this.id }), options);
  }

  async resume(options: RequestOptions = {}): Promise<void> {
    this.info = await this.api.json<SandboxInfo>(apiCall('POST /v1/sandboxes/{id}/resume', { id: this.id }), options);
  }

  /**
   * Keeps the sandbox's files as an immutable template named `name` (the
   * sandbox is frozen for the copy, then goes on): `Sandbox.create({ template: name })`.
   */
  async snapshot(input: { name: string }, options: RequestOptions = {}): Promise<TemplateInfo> {
    return this.api.json<TemplateInfo>(apiCall('POST /v1/sandboxes/{id}/snapshots', { id: this.id }), {
      ...options,
      json: { name: input.name },
      timeoutMs: options.timeoutMs ?? 0,
    });
  }

  /** A new sandbox with this one's files, same limits, tier and labels; this one is untouched. */
  async fork(input: { timeoutMs?: number } = {}, options: RequestOptions = {}): Promise<Sandbox> {
    const info = await this.api.json<SandboxInfo>(apiCall('POST /v1/sandboxes/{id}/fork', { id: this.id }), {
      ...options,
      json: { timeoutMs: input.timeoutMs },
      timeoutMs: options.timeoutMs ?? 0,
    });
    return new Sandbox(this.api, info);
  }

  /** Records the sandbox's files, to roll back to later (agent undo); the sandbox goes on. */
  async checkpoint(options: RequestOptions = {}): Promise<CheckpointInfo> {
    return this.api.json<CheckpointInfo>(apiCall('POST /v1/sandboxes/{id}/checkpoints', { id: this.id }), { ...options, timeoutMs: options.timeoutMs ?? 0 });
  }

  /** CPU, memory, pids and egress: the newest reading and the last ones (one per sampling tick, 2 s by default). */
  async metrics(options: RequestOptions = {}): Promise<SandboxMetrics> {
    return this.api.json<SandboxMetrics>(apiCall('GET /v1/sandboxes/{id}/metrics', { id: this.id }), options);
  }

  async checkpoints(options: RequestOptions = {}): Promise<CheckpointInfo[]> {
    return (await this.api.json<{ checkpoints: CheckpointInfo[] }>(apiCall('GET /v1/sandboxes/{id}/checkpoints', { id: this.id }), options)).checkpoints;
  }

  /** Puts the files back exactly as at the checkpoint; the sandbox's processes are restarted (started commands end). */
  async rollback(checkpoint: CheckpointInfo | string, options: RequestOptions = {}): Promise<void> {
    const id = typeof checkpoint === 'string' ? checkpoint : checkpoint.id;
    this.info = await this.api.json<SandboxInfo>(apiCall('POST /v1/sandboxes/{id}/rollback', { id: this.id }), {
      ...options,
      json: { checkpoint: id },
      timeoutMs: options.timeoutMs ?? 0,
    });
  }

  /**
   * A token for this sandbox only, to hand to a subagent or an MCP client:
   * an agent token whose scope names this sandbox and the actions given
   * (exec, files.read, files.write or action names such as sandbox.kill).
   * It can be no wider than the token in use; every other sandbox is not
   * found for it.
   *
   *   const { token } = await sbx.createScopedToken({ actions: ['exec', 'files.read'], ttlMs: 15 * 60_000 })
   */
  async createScopedToken(input: ScopedTokenOptions, options: RequestOptions = {}): Promise<TokenCreated> {
    return this.api.json<TokenCreated>(apiCall('POST /v1/tokens'), {
      ...options,
      json: {
        role: 'agent',
        name: input.name,
        ttlMs: input.ttlMs,
        scope: { sandboxes: [this.id], actions: input.actions, maxUses: input.maxUses },
      },
    });
  }

  /** Kills the sandbox; with `wait: false` it returns once the kill is recorded, while teardown goes on. */
  async kill(options: RequestOptions & { wait?: boolean } = {}): Promise<void> {
    const query = options.wait === false ? { wait: 'false' } : undefined;
    this.info = await this.api.json<SandboxInfo>(apiCall('DELETE /v1/sandboxes/{id}', { id: this.id }), { ...options, query });
  }
}
