import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  BadRequestError,
  ConflictError,
  canonicalJson,
  type GatewayManifest,
  GatewayManifestSchema,
  type GatewayServerInfo,
  type GatewayToolInfo,
  type GatewayToolResult,
  gatewayToolName,
  gatewayToolSeparator,
  maxServerToolNameChars,
  NotFoundError,
  paddockVersion,
  parseGatewayToolName,
} from '@paddock/core';
import type { UpstreamTool } from '@paddock/mcp/gateway';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock/clock.js';
import type { ProcessManager } from '../commands/process-manager.js';
import { isGatewayOwner } from '../sandboxes/sandbox-owners.js';
import type { SandboxService } from '../sandboxes/sandbox-service.js';
import type { SandboxStore } from '../store/sandbox-store.js';
import type { GatewayServerRecord, GatewayStore } from './gateway-store.js';
import { resolveHostMounts } from './host-files.js';
import { sandboxedLaunch, sandboxRequestOf } from './sandboxed-launch.js';
import { type Backoff, type McpClientKit, SupervisedServer } from './supervised-server.js';
import { isOffered, pinStateOf, pinsOf, toolDigest } from './tool-pins.js';

export interface GatewayServiceDeps {
  store: GatewayStore;
  sandboxes: SandboxService;
  sandboxStore: SandboxStore;
  processes: ProcessManager;
  audit: AuditLog;
  logger: Logger;
  /** Host paths no manifest may give a server (the daemon's state and cache folders). */
  protectedPaths: string[];
  backoff?: Backoff;
  /** When crashed servers start again. */
  clock: Clock;
}

export class GatewayServerNotFoundError extends NotFoundError {
  constructor(name: string) {
    super(`no gateway server named ${name}`, { name }, 'gateway_server_not_found');
  }
}

export class GatewayToolNotFoundError extends NotFoundError {
  constructor(name: string) {
    super(`no gateway tool named ${name} (gateway tools are named <server>${gatewayToolSeparator}<tool>)`, { name }, 'gateway_tool_not_found');
  }
}

/** What one call is, as the policy, an approval and the audit log see it: the arguments only as a digest and a summary. */
export interface ToolCallFacts {
  server: string;
  tool: string;
  argsDigest: string;
  arguments: Record<string, string>;
}

/**
 * The gateway: third-party MCP servers each run in a sandbox under the rules
 * of its manifest, their tools offered under namespaced names. Tool
 * descriptions can be pinned; one that changes afterwards is held back and
 * recorded. Calls reach a server only through `call`, which the API runs
 * under the policy, approvals and the audit log.
 */
export class GatewayService {
  private readonly running = new Map<string, SupervisedServer>();
  private readonly events = new EventEmitter();
  /** Per server, changed tools already recorded in the audit log (tool and digest), so each change is recorded once. */
  private readonly flagged = new Map<string, ChangeRecorder>();
  /** Adds, replacements, removals and restarts of one server, one at a time. */
  private readonly changing = new Map<string, Promise<unknown>>();
  /** What each tenant's clients were last told they may call, so they hear only of real changes. */
  private readonly announced = new Map<string, string>();
  private kit: Promise<McpClientKit> | undefined;
  private stopped = false;

  constructor(private readonly deps: GatewayServiceDeps) {
    this.events.setMaxListeners(0);
  }

  /**
   * Starts every registered server. Sandboxes of a previous daemon are
   * killed first: their servers lost the stdin they were speaking on.
   */
  async start(): Promise<void> {
    const stale = this.deps.sandboxStore.live().filter((r) => isGatewayOwner(r.owner));
    await Promise.all(stale.map((r) => this.deps.sandboxes.kill(r.owner, r.id).catch(() => {})));
    for (const record of this.deps.store.list()) this.supervise(record);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.running.values()].map((s) => s.stop()));
    this.running.clear();
  }

  /** Tells `listener` the tenant whose offered tools changed (added, removed, held back, or described anew). */
  onToolsChanged(listener: (tenant: string) => void): () => void {
    this.events.on('tools', listener);
    return () => this.events.off('tools', listener);
  }

  /** Checks what a new or replaced server needs exists (template, tier, secrets, host files) before anything is stored. */
  async check(tenant: string, name: string, manifest: GatewayManifest): Promise<void> {
    const { template } = this.deps.sandboxes.resolve(tenant, sandboxRequestOf(name, manifest));
    const mounts = await resolveHostMounts(manifest, this.deps.protectedPaths);
    // An admin grants host files to this code: a template the tenant may rebuild could become other code.
    if (mounts.length && template.owner !== null) {
      throw new BadRequestError(
        `a server given host files runs from a shared template (base, or one an admin built); ${template.name} is the tenant's own`,
        { template: template.name },
        'gateway_template_not_shared',
      );
    }
  }

  async add(
    principal: { id: string; tenant: string },
    name: string,
    body: { command: string[]; manifest: unknown; pin?: boolean },
  ): Promise<GatewayServerInfo> {
    const manifest = GatewayManifestSchema.parse(body.manifest);
    return this.exclusive(principal.tenant, name, async () => {
      await this.check(principal.tenant, name, manifest);
      const inserted = this.deps.store.insert({
        owner: principal.tenant,
        name,
        command: body.command,
        manifest,
        pinOnReady: body.pin ?? false,
        createdBy: principal.id,
      });
      if (!inserted) throw new ConflictError(`a gateway server named ${name} exists; replace it or remove it first`, { name }, 'gateway_server_exists');
      this.supervise(this.require(principal.tenant, name));
      return this.get(principal.tenant, name);
    });
  }

  /** A new command or manifest for a server: it starts again under it, its pins kept. */
  async replace(tenant: string, name: string, body: { command: string[]; manifest: unknown; pin?: boolean }): Promise<GatewayServerInfo> {
    const manifest = GatewayManifestSchema.parse(body.manifest);
    return this.exclusive(tenant, name, async () => {
      this.require(tenant, name);
      await this.check(tenant, name, manifest);
      this.deps.store.replace(tenant, name, body.command, manifest, body.pin ?? false);
      await this.running.get(keyOf(tenant, name))?.stop();
      this.supervise(this.require(tenant, name));
      return this.get(tenant, name);
    });
  }

  async remove(tenant: string, name: string): Promise<void> {
    await this.exclusive(tenant, name, async () => {
      this.require(tenant, name);
      const key = keyOf(tenant, name);
      const server = this.running.get(key);
      this.running.delete(key);
      this.flagged.delete(key);
      this.deps.store.remove(tenant, name);
      await server?.stop();
      this.announce(tenant);
    });
  }

  has(tenant: string, name: string): boolean {
    return this.deps.store.get(tenant, name) !== undefined;
  }

  list(tenant: string): GatewayServerInfo[] {
    return this.deps.store.list(tenant).map((r) => this.infoOf(r));
  }

  get(tenant: string, name: string): GatewayServerInfo {
    return this.infoOf(this.require(tenant, name));
  }

  async restart(tenant: string, name: string): Promise<GatewayServerInfo> {
    return this.exclusive(tenant, name, async () => {
      this.require(tenant, name);
      await this.supervisorOf(tenant, name).restartNow();
      return this.get(tenant, name);
    });
  }

  /**
   * Pins the tools as the server lists them now: from here on a changed one
   * is held back. With `expected` (tool → digest, what the operator looked
   * at), it pins only if the listing is still exactly that.
   */
  pin(tenant: string, name: string, expected?: Record<string, string>): GatewayServerInfo {
    this.require(tenant, name);
    const status = this.supervisorOf(tenant, name).status();
    if (status.state !== 'ready') {
      throw new ConflictError(`gateway server ${name} is ${status.state}: pin its tools once it is ready`, { state: status.state }, 'gateway_server_not_ready');
    }
    const pins = pinsOf(status.tools);
    if (expected && canonicalJson(expected) !== canonicalJson(pins)) {
      throw new ConflictError(
        `the tools of ${name} changed since they were shown: look at them again before pinning`,
        { name, changed: Object.keys({ ...pins, ...expected }).filter((tool) => pins[tool] !== expected[tool]) },
        'gateway_tools_changed',
      );
    }
    this.deps.store.setPins(tenant, name, pins);
    this.flagged.delete(keyOf(tenant, name));
    this.announce(tenant);
    return this.get(tenant, name);
  }

  logs(tenant: string, name: string, lines?: number): string[] {
    this.require(tenant, name);
    return this.supervisorOf(tenant, name).log.tail(lines);
  }

  /** Every tool of the tenant's servers, offered or held back. */
  tools(tenant: string): GatewayToolInfo[] {
    return this.list(tenant).flatMap((s) => s.tools);
  }

  /** The server and tool a namespaced name stands for, if the tenant may call it now. */
  resolveTool(tenant: string, name: string): { server: string; tool: string } {
    const parsed = parseGatewayToolName(name);
    const record = parsed && this.deps.store.get(tenant, parsed.server);
    if (!parsed || !record) throw new GatewayToolNotFoundError(name);
    const tool = this.supervisorOf(tenant, parsed.server).tool(parsed.tool);
    if (!tool) throw new GatewayToolNotFoundError(name);
    const state = pinStateOf(tool, record.pins);
    if (!isOffered(state)) {
      throw new ConflictError(
        `${name} is held back: ${state === 'new' ? 'it was not there when the server was pinned' : 'its description or schema changed since it was pinned'}; an operator reviews it and pins again (paddock gateway pin ${parsed.server})`,
        { name, pin: state },
        'gateway_tool_changed',
      );
    }
    return parsed;
  }

  async call(tenant: string, name: string, args: Record<string, unknown>, options: { signal?: AbortSignal } = {}): Promise<GatewayToolResult> {
    const { server, tool } = this.resolveTool(tenant, name);
    // Checked again when the call goes out: it may have waited for a restart whose tools are held back.
    const admit = () => void this.resolveTool(tenant, name);
    return (await this.supervisorOf(tenant, server).call(tool, args, { ...options, admit })) as GatewayToolResult;
  }

  /** Runs `work` once every change of that server begun before it has ended. */
  private exclusive<T>(tenant: string, name: string, work: () => Promise<T>): Promise<T> {
    const key = keyOf(tenant, name);
    const before = this.changing.get(key) ?? Promise.resolve();
    const mine = before.catch(() => {}).then(work);
    const settled = mine.catch(() => {});
    this.changing.set(key, settled);
    void settled.then(() => {
      if (this.changing.get(key) === settled) this.changing.delete(key);
    });
    return mine;
  }

  private supervise(record: GatewayServerRecord): void {
    if (this.stopped) return;
    const key = keyOf(record.owner, record.name);
    const server = new SupervisedServer({
      name: record.name,
      launch: sandboxedLaunch(this.deps, { tenant: record.owner, name: record.name, command: record.command, manifest: record.manifest }),
      kit: () => this.loadKit(),
      startTimeoutMs: record.manifest.startTimeoutMs,
      callTimeoutMs: record.manifest.callTimeoutMs,
      maxToolNameChars: maxServerToolNameChars(record.name),
      clientVersion: paddockVersion,
      ...(this.deps.backoff ? { backoff: this.deps.backoff } : {}),
      clock: this.deps.clock,
      onChange: () => this.changed(record.owner, record.name),
    });
    this.running.set(key, server);
    server.start();
  }

  /** A server's state or tools changed: pin on first listing if asked, record newly changed tools, tell listeners. */
  private changed(tenant: string, name: string): void {
    const server = this.running.get(keyOf(tenant, name));
    const record = this.deps.store.get(tenant, name);
    if (!server || !record) return;
    const status = server.status();
    if (status.state === 'ready' && record.pinOnReady && !record.pins) {
      this.deps.store.setPins(tenant, name, pinsOf(status.tools));
      this.deps.logger.info({ tenant, server: name, tools: status.tools.length }, 'gateway tools pinned as first listed');
    } else if (status.state === 'ready') {
      this.recordChangedTools(record, status.tools);
    }
    this.announce(tenant);
  }

  /** Tells listeners when what the tenant's clients may call is no longer what they were told. */
  private announce(tenant: string): void {
    const offered = this.tools(tenant).filter((t) => t.offered);
    const digest = canonicalJson(offered.map((t) => [t.name, t.digest]));
    if (this.announced.get(tenant) === digest) return;
    this.announced.set(tenant, digest);
    this.events.emit('tools', tenant);
  }

  /** Records each tool newly held back (at most `changesPerMinute` records a minute per server; the rest are counted). */
  private recordChangedTools(record: GatewayServerRecord, tools: UpstreamTool[]): void {
    const key = keyOf(record.owner, record.name);
    let recorder = this.flagged.get(key);
    if (!recorder) {
      recorder = new ChangeRecorder();
      this.flagged.set(key, recorder);
    }
    for (const tool of tools) {
      const state = pinStateOf(tool, record.pins);
      if (isOffered(state)) continue;
      const digest = toolDigest(tool);
      const verdict = recorder.take(`${tool.name}\0${digest}`);
      if (verdict === 'seen') continue;
      this.deps.logger.warn({ tenant: record.owner, server: record.name, tool: tool.name, pin: state }, 'gateway tool changed since pinned; held back');
      if (verdict === 'suppressed') continue;
      this.deps.audit.append({
        requestId: null,
        principal: `gateway:${record.name}`,
        tenant: record.owner,
        action: 'gateway.tool.changed',
        resource: `mcp-server:${record.name}`,
        decision: 'deny',
        outcome: 'held_back',
        details: {
          server: record.name,
          tool: tool.name,
          pin: state,
          pinned: record.pins?.[tool.name] ?? null,
          now: digest,
          description: (tool.description ?? '').slice(0, 500),
          ...recorder.suppressedSinceLast(),
        },
      });
    }
  }

  private infoOf(record: GatewayServerRecord): GatewayServerInfo {
    const status = this.running.get(keyOf(record.owner, record.name))?.status();
    const tools = (status?.tools ?? []).map((tool): GatewayToolInfo => {
      const pin = pinStateOf(tool, record.pins);
      return {
        ...tool,
        name: gatewayToolName(record.name, tool.name),
        server: record.name,
        tool: tool.name,
        pin,
        digest: toolDigest(tool),
        offered: isOffered(pin) && status?.state !== 'stopped',
      };
    });
    return {
      name: record.name,
      command: record.command,
      manifest: record.manifest as unknown as Record<string, unknown>,
      state: status?.state ?? 'stopped',
      sandboxId: status?.sandboxId ?? null,
      serverInfo: status?.serverInfo ?? null,
      restarts: status?.restarts ?? 0,
      lastError: status?.lastError ?? null,
      nextStartAt: status?.nextStartAt ?? null,
      readyAt: status?.readyAt ?? null,
      pinnedAt: record.pinnedAt,
      tools,
      skippedTools: status?.skippedTools ?? [],
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  private require(tenant: string, name: string): GatewayServerRecord {
    const record = this.deps.store.get(tenant, name);
    if (!record) throw new GatewayServerNotFoundError(name);
    return record;
  }

  private supervisorOf(tenant: string, name: string): SupervisedServer {
    const server = this.running.get(keyOf(tenant, name));
    if (!server) throw new GatewayServerNotFoundError(name);
    return server;
  }

  private loadKit(): Promise<McpClientKit> {
    this.kit ??= import('@paddock/mcp/gateway').then(({ ProcessTransport, UpstreamClient }) => ({ ProcessTransport, UpstreamClient }));
    return this.kit;
  }
}

function keyOf(tenant: string, name: string): string {
  return `${tenant}\0${name}`;
}

/**
 * The facts of one call: the arguments' SHA-256 over canonical JSON (what an
 * approval is bound to) and a short summary a reviewer can read; the
 * arguments themselves are not kept.
 */
export function toolCallFacts(server: string, tool: string, args: Record<string, unknown>): ToolCallFacts {
  return {
    server,
    tool,
    argsDigest: createHash('sha256').update(canonicalJson(args)).digest('hex'),
    arguments: summarize(args),
  };
}

const summaryKeys = 20;
const summaryChars = 80;

/**
 * A few words per argument for whoever reviews or audits a call. What a
 * client controls is shown, not trusted: control and direction characters
 * are escaped, long keys keep a mark of the whole so two cannot read alike.
 */
function summarize(args: Record<string, unknown>): Record<string, string> {
  const entries = Object.entries(args);
  const summary: Record<string, string> = {};
  for (const [key, value] of entries.slice(0, summaryKeys)) summary[summaryKey(key)] = summarizeValue(value);
  if (entries.length > summaryKeys) summary['…'] = `${entries.length - summaryKeys} more`;
  return summary;
}

function summaryKey(key: string): string {
  const shown = visible(key);
  if (shown.length <= 64) return shown;
  return `${shown.slice(0, 48)}…#${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

function summarizeValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const shown = visible(text);
  return shown.length > summaryChars ? `${shown.slice(0, summaryChars)}… (${text.length} characters)` : shown;
}

/** Control, format and direction characters as \u escapes: a summary must read as what it is. */
function visible(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** Changes recorded per server per minute, past which they are counted into the next record. */
const changesPerMinute = 60;
/** Changes remembered per server, past which the memory starts afresh (a server churning names must not grow it without end). */
const changesRemembered = 10_000;

/** What one server's changed tools have had recorded: each change once, and not too many a minute. */
class ChangeRecorder {
  private readonly seen = new Set<string>();
  private windowStart = 0;
  private recorded = 0;
  private suppressed = 0;

  take(change: string): 'seen' | 'record' | 'suppressed' {
    if (this.seen.has(change)) return 'seen';
    if (this.seen.size >= changesRemembered) this.seen.clear();
    this.seen.add(change);
    const now = Date.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.recorded = 0;
    }
    if (this.recorded >= changesPerMinute) {
      this.suppressed += 1;
      return 'suppressed';
    }
    this.recorded += 1;
    return 'record';
  }

  /** How many changes went unrecorded before this record; counted once. */
  suppressedSinceLast(): { unrecordedBefore?: number } {
    const count = this.suppressed;
    this.suppressed = 0;
    return count ? { unrecordedBefore: count } : {};
  }
}
