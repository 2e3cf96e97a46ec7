import type { Limits, Tier, WritableLayer } from '@paddock/core';
import {
  BadRequestError,
  ConflictError,
  defaultLimits,
  defaultSandboxTimeoutMs,
  describeSandboxEnd,
  type SandboxCreate,
  type SandboxCreateRequest,
  SandboxCreateSchema,
  SandboxNotFoundError,
  type SandboxState,
  startCommandOf,
  TemplateNotFoundError,
} from '@paddock/core';
import type { HostMount, SandboxHost } from '@paddock/engine';
import type { Logger } from 'pino';
import type { CancelTimer, Clock } from '../clock/clock.js';
import type { ProcessManager } from '../commands/process-manager.js';
import type { NetworkService } from '../network/network-service.js';
import type { SandboxRecord, SandboxStore } from '../store/sandbox-store.js';
import { type TemplateRecord, type TemplateStore, visibleTo } from '../store/template-store.js';
import type { QuotaGuard } from '../tenants/quota-guard.js';
import type { TierPolicy } from '../tiers/tier-policy.js';
import type { VolumeService } from '../volumes/volume-service.js';
import type { HostCapacity } from './host-capacity.js';
import { newSandboxId } from './sandbox-ids.js';
import { tenantOfOwner } from './sandbox-owners.js';
import { type Ending, TeardownQueue } from './teardown-queue.js';

/** How many sandboxes ended in bulk are torn down at once. */
const teardownsAtOnce = 16;
/** Operations that stop, freeze or copy a sandbox's container or files; one runs at a time per sandbox. */
export type SandboxWork = 'rollback' | 'checkpoint' | 'snapshot' | 'fork' | 'pause' | 'resume';

export interface SandboxServiceDeps {
  engine: SandboxHost;
  sandboxes: SandboxStore;
  templates: TemplateStore;
  processes: ProcessManager;
  tierPolicy: TierPolicy;
  /** Refuses limits beyond what the host has; absent means no check. */
  capacity?: HostCapacity;
  /** Tenant quotas; absent means none (template builds use the service without them). */
  quotas?: QuotaGuard;
  /** Egress rules and secrets; absent means sandboxes get no network state (loopback only). */
  network?: NetworkService;
  /** The tenants' volumes; absent means a create naming volumes is refused. */
  volumes?: VolumeService;
  logger: Logger;
  /** When timeouts fall due. */
  clock: Clock;
  /** Told once a sandbox is gone from the host (a fork's hidden layer can go with it). */
  afterEnd?: (id: string) => Promise<void> | void;
  /** A ready sandbox from a warm pool matching the request, if there is one. */
  claimFromPool?: (owner: string, request: { template: string; tier: Tier; limits: Limits; writableLayer: WritableLayer }) => SandboxRecord | undefined;
  /** The operator's writable layer for creates that do not name one; default tmpfs. */
  writableLayer?: WritableLayer;
  /** Runs `work`'s store writes as one database transaction; absent, each write commits on its own. */
  atomically?: <T>(work: () => T) => T;
}

export interface CreateOptions {
  signal?: AbortSignal;
  /** No timeout: it lives until killed (the daemon's own long-lived sandboxes, such as a gateway server's). */
  keepAlive?: boolean;
  /** Host paths shown inside; only the daemon's own callers pass them, after checking who granted them. */
  hostMounts?: readonly HostMount[];
  /** A template build's step: runs on these layers (top first) instead of the template's own. */
  layers?: readonly string[];
  /** The person the caller's token acts for, shown as the sandbox's owner; none when the daemon makes it for itself. */
  createdBy?: string;
}

/** Sandbox lifecycle: create, look up, expire, kill, and reconcile after a restart. */
export class SandboxService {
  private readonly timers = new Map<string, CancelTimer>();
  private readonly ending = new Map<string, Ending>();
  private readonly bulkTeardowns = new TeardownQueue(teardownsAtOnce);
  /**
   * The one operation on its container or files each sandbox is in (a rollback
   * restarts it, a copy freezes it, a pause freezes it): a second would find the
   * container gone, frozen or thawed under it, so it is refused meanwhile.
   */
  private readonly busy = new Map<string, { work: SandboxWork; done: Promise<void>; stop: AbortController }>();
  /**
   * Sandboxes whose auto-pause fell due while they were busy: the pause goes
   * next, and any other operation asked for before it is refused, so a client
   * copying back to back cannot hold it off.
   */
  private readonly pauseDue = new Set<string>();
  /** Restarts in place so far, by live sandbox: what the runtime said about one from before a restart is stale. */
  private readonly restarts = new Map<string, number>();

  constructor(private readonly deps: SandboxServiceDeps) {}

  /** What a create request comes to (its template, tier and defaults), or the error create would give. */
  resolve(owner: string, input: SandboxCreate): { request: SandboxCreateRequest; template: TemplateRecord; tier: Tier } {
    return this.resolveParsed(owner, SandboxCreateSchema.parse(input));
  }

  private resolveParsed(owner: string, request: SandboxCreateRequest): { request: SandboxCreateRequest; template: TemplateRecord; tier: Tier } {
    const template = this.deps.templates.get(request.template);
    if (!visibleTo(template, tenantOfOwner(owner))) throw new TemplateNotFoundError(request.template);
    const { tier } = this.deps.tierPolicy.choose({ tier: request.tier, template: template.name, labels: request.metadata ?? {} });
    this.checkLimits({ ...defaultLimits, ...request.limits });
    for (const name of request.secrets ?? []) this.deps.network?.requireSecret(tenantOfOwner(owner), name);
    if (request.volumes?.length) {
      if (!this.deps.volumes) throw new BadRequestError('this daemon has no volumes');
      this.deps.volumes.check(tenantOfOwner(owner), request.volumes);
    }
    return { request, template, tier };
  }

  /** Throws HostCapacityError when the host could never give a sandbox these limits. */
  checkLimits(limits: Limits): void {
    this.deps.capacity?.check(limits);
  }

  async create(owner: string, input: SandboxCreate, options: CreateOptions = {}): Promise<SandboxRecord> {
    return this.createParsed(owner, SandboxCreateSchema.parse(input), options);
  }

  /**
   * create, for a request its caller has parsed with SandboxCreateSchema
   * already (an API route's body): a schema's parse is ~0.1 ms of a warm
   * claim's ~2 ms, and a create asked it three times.
   */
  async createParsed(owner: string, parsed: SandboxCreateRequest, options: CreateOptions = {}): Promise<SandboxRecord> {
    const { request, template, tier } = this.resolveParsed(owner, parsed);
    const limits = { ...defaultLimits, ...request.limits };
    const writableLayer = request.writableLayer ?? this.deps.writableLayer ?? 'tmpfs';
    const timeoutMs = options.keepAlive ? null : (request.timeoutMs ?? defaultSandboxTimeoutMs);
    // A gateway server's sandbox counts against its tenant's quota.
    const release = this.deps.quotas?.reserve(tenantOfOwner(owner), limits);
    try {
      // A pooled sandbox has the proxy and no CA: one without network or with secrets is made afresh.
      const poolable =
        request.network?.mode !== 'none' &&
        !request.secrets?.length &&
        !options.hostMounts?.length &&
        !request.volumes?.length &&
        !options.layers &&
        // A pooled sandbox's start command is running already, with the pool's environment: one the create adds to (a desktop's
        // PADDOCK_SCREEN, say) would not reach it.
        request.startCommand !== false &&
        !(startCommandOf(template) && Object.keys(request.env ?? {}).length) &&
        timeoutMs !== null;
      const claimed =
        poolable && timeoutMs !== null
          ? this.claimPooled(owner, options.createdBy ?? null, request, { template: template.name, tier, limits, writableLayer }, timeoutMs)
          : undefined;
      return claimed ?? (await this.launchAndRecord(owner, request, template, tier, { limits, writableLayer }, timeoutMs, options));
    } finally {
      release?.();
    }
  }

  /**
   * A ready sandbox of a matching pool, made the caller's; undefined when no
   * pool has one. The pool's count, the network rules and the new owner are
   * written in one transaction: one commit on the claim's path instead of
   * three, and no moment where the row says one owner and the rules another.
   */
  private claimPooled(
    owner: string,
    createdBy: string | null,
    request: SandboxCreateRequest,
    match: { template: string; tier: Tier; limits: Limits; writableLayer: WritableLayer },
    timeoutMs: number,
  ): SandboxRecord | undefined {
    const atomically = this.deps.atomically ?? ((work) => work());
    const record = atomically(() => {
      const pooled = this.deps.claimFromPool?.(owner, match);
      if (!pooled) return undefined;
      this.deps.network?.takeOver(pooled.id, owner, request.network);
      return this.takeOver(pooled, owner, createdBy, request, timeoutMs);
    });
    if (!record) return undefined;
    this.arm(record);
    this.deps.logger.info({ sandbox: record.id, template: record.template, tier: record.tier }, 'sandbox created from a warm pool');
    return record;
  }

  /** Makes a pooled sandbox the caller's in the store: its labels, environment and lifetime start now (its timer is the caller's to arm). */
  private takeOver(pooled: SandboxRecord, owner: string, createdBy: string | null, request: SandboxCreateRequest, timeoutMs: number): SandboxRecord {
    const now = this.deps.clock.now();
    const record: SandboxRecord = {
      ...pooled,
      owner,
      createdBy,
      metadata: request.metadata ?? {},
      env: { ...pooled.env, ...request.env },
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + timeoutMs).toISOString(),
      onTimeout: request.onTimeout ?? 'kill',
    };
    this.deps.sandboxes.transfer(record);
    return record;
  }

  private async launchAndRecord(
    owner: string,
    request: SandboxCreateRequest,
    template: TemplateRecord,
    tier: Tier,
    { limits, writableLayer }: { limits: Limits; writableLayer: WritableLayer },
    timeoutMs: number | null,
    options: CreateOptions,
  ): Promise<SandboxRecord> {
    const id = newSandboxId();
    // Recorded before the launch, so a second sandbox asking for the same volume read-write is refused meanwhile.
    const volumeMounts = request.volumes?.length ? (this.deps.volumes?.attach(tenantOfOwner(owner), id, request.volumes) ?? []) : [];
    const hostMounts = [...(options.hostMounts ?? []), ...volumeMounts];
    let network: ReturnType<NetworkService['register']>;
    let launched: Awaited<ReturnType<SandboxHost['launch']>>;
    try {
      network = this.deps.network?.register(id, owner, request.network, request.secrets) ?? { mode: 'none' as const, env: {} };
    } catch (err) {
      this.deps.volumes?.detach(id);
      throw err;
    }
    try {
      launched = await this.deps.engine.launch(
        {
          id,
          tier,
          layers: options.layers ? [...options.layers] : template.layerDirs,
          limits,
          writableLayer,
          network: network.mode,
          hostMounts: hostMounts.length ? hostMounts : undefined,
        },
        { signal: options.signal },
      );
    } catch (err) {
      this.deps.network?.forget(id);
      this.deps.volumes?.detach(id);
      throw err;
    }
    const now = this.deps.clock.now();
    const record: SandboxRecord = {
      id,
      owner,
      createdBy: options.createdBy ?? null,
      template: template.name,
      tier,
      state: 'running',
      limits,
      writableLayer,
      metadata: request.metadata ?? {},
      // The placeholders last: a request cannot put a real value where a secret's placeholder goes.
      env: { ...template.env, ...launched.networkEnv, ...request.env, ...network.env },
      workdir: template.workdir,
      defaultUser: template.user,
      createdAt: new Date(now).toISOString(),
      expiresAt: timeoutMs === null ? null : new Date(now + timeoutMs).toISOString(),
      endedAt: null,
      endReason: null,
      onTimeout: request.onTimeout ?? 'kill',
    };
    try {
      this.deps.sandboxes.insert(record);
    } catch (err) {
      await this.deps.engine.destroy(id);
      this.deps.network?.forget(id);
      this.deps.volumes?.detach(id);
      throw err;
    }
    this.arm(record);
    this.deps.logger.info({ sandbox: id, template: template.name, tier, limits, writableLayer }, 'sandbox created');
    // A build's step sandboxes run the build's commands only.
    if (request.startCommand !== false && !options.layers) await this.runStartCommand(record, template);
    return record;
  }

  /**
   * Starts the template's start command (ENTRYPOINT and CMD) in the
   * background, as a command like any other: listed, its output kept, killed
   * with the sandbox. A sandbox whose start command cannot be started is not
   * left behind.
   */
  private async runStartCommand(record: SandboxRecord, template: TemplateRecord): Promise<void> {
    const cmd = startCommandOf(template);
    if (!cmd) return;
    try {
      await this.deps.processes.start(record, { cmd, cwd: record.workdir });
    } catch (err) {
      await this.end(record.id, 'killed');
      throw err;
    }
  }

  /** The tier a create request would get, for the policy to see; undefined when create would refuse it (and say why). */
  previewTier(request: SandboxCreateRequest): Tier | undefined {
    try {
      return this.deps.tierPolicy.choose({ tier: request.tier, template: request.template, labels: request.metadata ?? {} }).tier;
    } catch {
      return undefined;
    }
  }

  /** A sandbox's egress settings as a create request names them (a fork gets its source's). */
  networkRequestOf(id: string): Pick<SandboxCreate, 'network' | 'secrets'> {
    const state = this.deps.network?.get(id);
    if (!state) return {};
    return { network: { mode: state.mode, allow: state.allow, deny: state.deny }, secrets: state.secrets.map((s) => s.name) };
  }

  /** Any sandbox of this owner, live or ended; others' sandboxes do not exist for them. */
  get(owner: string, id: string): SandboxRecord {
    const record = this.deps.sandboxes.get(id);
    if (!record || record.owner !== owner) throw new SandboxNotFoundError(id);
    return record;
  }

  /**
   * Whether a sandbox of any owner exists and has not ended. Only for
   * answers that name no owner's data: E2B's health check tells a client
   * whose token ended with its sandbox that the sandbox is gone.
   */
  isLive(id: string): boolean {
    const record = this.deps.sandboxes.get(id);
    return record !== undefined && record.state !== 'killed';
  }

  /** A sandbox that can take commands and file operations. */
  requireRunning(owner: string, id: string): SandboxRecord {
    const record = this.get(owner, id);
    if (record.state === 'killed') throw new SandboxNotFoundError(id, `${describeSandboxEnd(record.endReason)} and no longer exists`);
    if (record.state === 'paused') throw new ConflictError(`sandbox ${id} is paused; resume it first`, { id }, 'sandbox_paused');
    return record;
  }

  list(owner: string, filter: { state?: SandboxState | 'all'; labels?: Record<string, string> } = {}): SandboxRecord[] {
    const states: SandboxState[] | undefined = filter.state === 'all' ? ['running', 'paused', 'killed'] : filter.state ? [filter.state] : undefined;
    return this.deps.sandboxes.list({ owner, states, labels: filter.labels });
  }

  /**
   * Kills a sandbox. The record says killed (and no work reaches it) at once;
   * with `wait` the call returns only when nothing of it is left on the host.
   */
  async kill(owner: string, id: string, options: { wait?: boolean } = {}): Promise<SandboxRecord> {
    const record = this.get(owner, id);
    if (record.state === 'killed') throw new SandboxNotFoundError(id, `already ${describeSandboxEnd(record.endReason)}`);
    const teardown = this.end(id, 'killed');
    if (options.wait !== false) await teardown;
    return this.get(owner, id);
  }

  setTimeout(owner: string, id: string, timeoutMs: number): SandboxRecord {
    const record = this.requireLive(owner, id);
    if (record.state === 'paused') {
      // The clock starts again on resume, with this much to go.
      this.deps.sandboxes.setPausedLeft(id, timeoutMs);
      return { ...record, pausedLeftMs: timeoutMs };
    }
    const expiresAt = new Date(this.deps.clock.now() + timeoutMs).toISOString();
    this.deps.sandboxes.setExpiry(id, expiresAt);
    const updated = { ...record, expiresAt };
    this.arm(updated);
    return updated;
  }

  /**
   * Pauses a running sandbox; one paused already is answered as it is. With
   * `waitIfBusy`, an operation under way (a copy, a rollback) is waited for
   * instead of refused: E2B's clients read any 409 here as "already paused".
   */
  async pause(owner: string, id: string, options: { waitIfBusy?: boolean } = {}): Promise<SandboxRecord> {
    for (;;) {
      const record = this.requireLive(owner, id);
      if (record.state === 'paused') return record;
      const busy = this.busy.get(id);
      if (busy && options.waitIfBusy) {
        await busy.done;
        continue;
      }
      const leftMs = await this.pauseNow(id, () => (record.expiresAt ? Math.max(0, Date.parse(record.expiresAt) - this.deps.clock.now()) : null));
      return { ...record, state: 'paused', expiresAt: null, pausedLeftMs: leftMs } satisfies SandboxRecord;
    }
  }

  /**
   * Freezes the sandbox as its one operation and stops its timeout clock,
   * keeping `leftMs()` (read once frozen) for its resume; returns that.
   */
  private pauseNow(id: string, leftMs: () => number | null): Promise<number | null> {
    return this.exclusively(id, 'pause', async () => {
      await this.deps.engine.pause(id);
      // A timer armed meanwhile (the timeout changed) is cancelled, not only forgotten.
      this.timers.get(id)?.();
      this.timers.delete(id);
      const left = leftMs();
      this.deps.sandboxes.markPaused(id, left);
      return left;
    });
  }

  async resume(owner: string, id: string): Promise<SandboxRecord> {
    const record = this.requireLive(owner, id);
    if (record.state === 'running') return record;
    // Its commands taken over and its record running before anything else may act on it.
    return this.exclusively(id, 'resume', async () => {
      await this.deps.engine.resume(id);
      // A sandbox paused when the daemon restarted has its commands taken over now.
      await this.adoptProcesses(record);
      return this.markRestarted(record);
    });
  }

  /** Auto-pause: frozen instead of killed; resumed, it gets the default lifetime again. */
  private async pauseAtTimeout(id: string): Promise<void> {
    const record = this.deps.sandboxes.get(id);
    if (record?.state !== 'running') {
      this.pauseDue.delete(id);
      return;
    }
    const busy = this.busy.get(id);
    if (busy) {
      this.pauseAfter(id, busy.done);
      return;
    }
    this.pauseDue.delete(id);
    try {
      await this.pauseNow(id, () => defaultSandboxTimeoutMs);
    } catch (err) {
      if (this.ended(id)) return;
      this.deps.logger.error({ err, sandbox: id }, 'pausing at the timeout failed; killing instead');
      await this.expire(id);
    }
  }

  /**
   * A copy or rollback holds the sandbox whose auto-pause fell due: the pause
   * comes as soon as that is done, before anything else (see `pauseDue`). A
   * timeout set meanwhile cancels it, as it would cancel the timer.
   */
  private pauseAfter(id: string, done: Promise<void>): void {
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
      this.pauseDue.delete(id);
    };
    this.pauseDue.add(id);
    this.timers.set(id, cancel);
    void done.then(() => {
      if (cancelled) return;
      if (this.timers.get(id) === cancel) this.timers.delete(id);
      return this.pauseAtTimeout(id);
    });
  }

  /**
   * Runs `work` as the sandbox's one operation on its container or files (see
   * `busy`); another asked for meanwhile is refused with 409 `conflict`. A
   * copy (checkpoint, snapshot, fork) is stopped through the signal given to
   * it (the caller's `signal`, or the sandbox's end), and its teardown waits
   * for it: what the copy makes in the sandbox's folder is then gone with it.
   * A sandbox that ended during the work is answered as gone.
   */
  async exclusively<T>(id: string, work: SandboxWork, run: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { release, stop } = this.claim(id, work);
    try {
      return await run(signal ? AbortSignal.any([signal, stop]) : stop);
    } catch (err) {
      throw this.ended(id, work) ?? err;
    } finally {
      release();
    }
  }

  private claim(id: string, work: SandboxWork): { release: () => void; stop: AbortSignal } {
    // Ended since the caller looked it up (its checks may await): a restart now would outlive its teardown.
    const ended = this.ended(id);
    if (ended) throw ended;
    const current = this.busy.get(id)?.work ?? (this.pauseDue.has(id) && work !== 'pause' ? 'pause' : undefined);
    if (current) {
      throw new ConflictError(`sandbox ${id} is busy with a ${current}; try again once that is done`, { id, busyWith: current }, 'conflict');
    }
    let settle = () => {};
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const stopper = new AbortController();
    this.busy.set(id, { work, done, stop: stopper });
    const release = () => {
      this.busy.delete(id);
      settle();
    };
    return { release, stop: stopper.signal };
  }

  /** The answer for a sandbox that has ended (`during` the work whose failure that ending was), or undefined while it lives. */
  private ended(id: string, during?: SandboxWork): SandboxNotFoundError | undefined {
    const record = this.deps.sandboxes.get(id);
    if (!this.ending.has(id) && record?.state !== 'killed') return undefined;
    return new SandboxNotFoundError(id, `${describeSandboxEnd(record?.endReason)}${during ? ` during its ${during}` : ''} and no longer exists`);
  }

  /**
   * Restarts a sandbox's runtime in place (a rollback): its commands are
   * forgotten first, and their connections closing as its container goes is
   * not taken for the sandbox's death (which would tear it down under the restart).
   * A restart that failed ends the sandbox (`onFailure` hears why first). One
   * killed meanwhile is torn down only after the restart, which would otherwise
   * start its container again once the teardown had run; the caller then hears it is gone.
   */
  async restartInPlace<T>(id: string, restart: () => Promise<T>, onFailure: (err: unknown) => void): Promise<T> {
    let restarted = false;
    let value: T;
    try {
      value = await this.exclusively(id, 'rollback', () => {
        restarted = true;
        this.restarts.set(id, (this.restarts.get(id) ?? 0) + 1);
        this.deps.processes.dropSandbox(id);
        return restart();
      });
    } catch (err) {
      // Refused, or ended meanwhile (a kill, a timeout: its processes were killed under the restart): answered as such.
      if (!restarted || this.ended(id)) throw err;
      onFailure(err);
      // Stopped and half restored is no state to leave a sandbox in.
      await this.end(id, 'rollback_failed');
      throw err;
    }
    const ended = this.ended(id, 'rollback');
    if (ended) throw ended;
    return value;
  }

  /** Bookkeeping of a sandbox that runs again without a resume (restarted by a rollback). */
  markRestarted(record: SandboxRecord): SandboxRecord {
    if (record.state === 'running') return record;
    const left = record.pausedLeftMs;
    const expiresAt = left === null || left === undefined ? null : new Date(this.deps.clock.now() + left).toISOString();
    this.deps.sandboxes.markResumed(record.id, expiresAt);
    const running: SandboxRecord = { ...record, state: 'running', expiresAt, pausedLeftMs: null };
    this.arm(running);
    return running;
  }

  /**
   * Makes the database and the host agree after a (possibly unclean) restart:
   * live sandboxes whose agent answers are adopted, with the commands their
   * agents still supervise; the rest are marked lost and cleaned; anything on
   * the host the database does not know is removed.
   */
  async reconcile(): Promise<{ adopted: string[]; lost: string[]; removed: string[] }> {
    const adopted: string[] = [];
    const lost: string[] = [];
    // In parallel, each check bounded: one sandbox (say, running a fake agent
    // that never answers) must not hold the daemon's start-up.
    const live = this.deps.sandboxes.live();
    const alive = await Promise.all(live.map((record) => this.isAlive(record)));
    for (const [i, record] of live.entries()) {
      if (alive[i]) {
        adopted.push(record.id);
        this.arm(record);
      } else {
        lost.push(record.id);
        await this.end(record.id, 'lost');
      }
    }
    const running = live.filter((record, i) => alive[i] && record.state === 'running');
    await Promise.all(running.map((record) => this.adoptProcesses(record)));
    // Those just ended as lost had their teardown tried already: a failure there waits for the next start.
    const finished = await this.finishTeardowns(new Set(lost));
    const known = new Set(adopted);
    const removed: string[] = [];
    for (const id of await this.deps.engine.hostSandboxIds()) {
      if (known.has(id)) continue;
      removed.push(id);
      await this.deps.engine.destroy(id).catch((err) => this.deps.logger.error({ err, sandbox: id }, 'cleanup failed'));
    }
    this.deps.logger.info({ adopted: adopted.length, lost: lost.length, removed: removed.length, finished }, 'reconciled sandboxes');
    return { adopted, lost, removed };
  }

  /**
   * Finishes the teardowns a previous daemon began or owed (it stopped while
   * they waited their turn, or a step failed): what is on the host, and what
   * ends with a sandbox besides (its network rules, volume mounts, tokens,
   * port links, a fork's layer). Returns how many.
   */
  private async finishTeardowns(triedNow: ReadonlySet<string>): Promise<number> {
    const owed = this.deps.sandboxes.pendingTeardowns().filter((id) => !this.ending.has(id) && !triedNow.has(id));
    await Promise.all(owed.map((id) => this.bulkTeardowns.run({ start: () => this.tearDown(id) })));
    return owed.length;
  }

  /**
   * Marks a sandbox ended without tearing it down, for a caller that takes
   * over its remains (a template build keeps its writable layer).
   */
  retire(id: string, reason: string): void {
    this.timers.get(id)?.();
    this.timers.delete(id);
    this.deps.sandboxes.markEnded(id, reason, { tearDown: false });
    this.deps.processes.dropSandbox(id);
    // Its network rules are not among the remains a caller keeps: each build step's stayed in memory and the database.
    this.deps.network?.forget(id);
  }

  /**
   * Ends a sandbox whose runtime no longer runs it (its kernel died under
   * gVisor, say), naming why: out of memory if its cgroup saw an OOM kill.
   */
  async noticeIfDead(id: string): Promise<void> {
    const record = this.deps.sandboxes.get(id);
    if (record?.state !== 'running' || this.busy.get(id)?.work === 'rollback') return;
    const restartsBefore = this.restarts.get(id) ?? 0;
    const state = await this.deps.engine.state(id, { timeoutMs: 10_000 }).catch(() => null);
    // A restart begun (ended or not) while the runtime was asked makes its answer no sign of death.
    if ((state && state.status !== 'stopped') || (this.restarts.get(id) ?? 0) !== restartsBefore) return;
    const reason = this.deps.engine.oomKills(id) > 0 ? 'oom' : 'crashed';
    this.deps.logger.warn({ sandbox: id, reason }, 'sandbox died');
    await this.end(id, reason);
  }

  /** Kills every live sandbox (used by `kill --all` and test teardown), or those of `owner` that `reached` says the caller reaches. */
  async killAll(owner?: string, reached: (r: SandboxRecord) => boolean = () => true): Promise<string[]> {
    const live = this.deps.sandboxes.live().filter((r) => (!owner || r.owner === owner) && reached(r));
    // All are ended at once (no new work reaches any of them) and their processes killed, so their deaths overlap;
    // then they are torn down a few at a time.
    const endings = live.map((r) => this.markEnding(r.id, 'killed'));
    for (const r of live) await this.killProcesses(r.id);
    await Promise.all(endings.map((ending) => this.bulkTeardowns.run(ending)));
    return live.map((r) => r.id);
  }

  /** Stops timers; sandboxes keep running and are adopted by the next start. */
  stopTimers(): void {
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  requireLive(owner: string, id: string): SandboxRecord {
    const record = this.get(owner, id);
    if (record.state === 'killed') throw new SandboxNotFoundError(id, `${describeSandboxEnd(record.endReason)} and no longer exists`);
    return record;
  }

  /** Takes over the commands a sandbox's agent still runs for a previous daemon; a failure leaves them unlisted, not the sandbox. */
  private async adoptProcesses(record: SandboxRecord): Promise<void> {
    try {
      const count = await this.deps.processes.adopt(record, { timeoutMs: 5000 });
      if (count > 0) this.deps.logger.info({ sandbox: record.id, commands: count }, 're-attached to commands');
    } catch (err) {
      this.deps.logger.warn({ err, sandbox: record.id }, 'listing the commands of an adopted sandbox failed');
    }
  }

  private async isAlive(record: SandboxRecord): Promise<boolean> {
    const state = await this.deps.engine.state(record.id, { timeoutMs: 10_000 }).catch(() => null);
    if (!state || (state.status !== 'running' && state.status !== 'paused')) return false;
    if (state.status === 'paused') return true;
    try {
      await this.deps.engine.agent(record.id).ping({ timeoutMs: 3000 });
      return true;
    } catch {
      return false;
    }
  }

  private arm(record: SandboxRecord): void {
    this.timers.get(record.id)?.();
    // Ended meanwhile (a rollback's restart racing a kill): no timer for it.
    if (!record.expiresAt || this.ending.has(record.id)) return;
    const delay = Math.max(0, Date.parse(record.expiresAt) - this.deps.clock.now());
    const cancel = this.deps.clock.after(delay, () => {
      if (record.onTimeout === 'pause') {
        this.deps.logger.info({ sandbox: record.id }, 'sandbox paused at its timeout');
        void this.pauseAtTimeout(record.id);
        return;
      }
      this.deps.logger.info({ sandbox: record.id }, 'sandbox timed out');
      void this.expire(record.id);
    });
    this.timers.set(record.id, cancel);
  }

  /** A timeout fell due: ended and its processes killed now, torn down in turn (many sandboxes made together expire together). */
  private async expire(id: string): Promise<void> {
    // A timer armed again by work that raced the end (a rollback's restart) finds it ended: nothing to do.
    if (!this.ending.has(id) && this.deps.sandboxes.get(id)?.state === 'killed') return;
    const ending = this.markEnding(id, 'timeout');
    await this.killProcesses(id);
    await this.bulkTeardowns.run(ending);
  }

  /** Kills the sandbox's processes now (its teardown may wait its turn); a failure is logged, the teardown goes on. */
  private async killProcesses(id: string): Promise<void> {
    try {
      await this.deps.engine.killProcesses(id);
    } catch (err) {
      this.deps.logger.warn({ err, sandbox: id }, 'killing the processes of an ended sandbox failed; its teardown kills them');
    }
  }

  /** Marks the sandbox ended first (so no new work reaches it), then tears it down. */
  private end(id: string, reason: string): Promise<void> {
    return this.markEnding(id, reason).start();
  }

  /**
   * Marks the sandbox ended and returns its teardown, to start now or in turn
   * (`start` is idempotent). A sandbox already ending returns the same one: a
   * second end (a timeout and a kill-all, say) never tears it down twice.
   */
  private markEnding(id: string, reason: string): Ending {
    const pending = this.ending.get(id);
    if (pending) return pending;
    this.timers.get(id)?.();
    this.timers.delete(id);
    this.restarts.delete(id);
    this.deps.sandboxes.markEnded(id, reason);
    this.deps.processes.dropSandbox(id);
    let work: Promise<void> | undefined;
    const ending: Ending = {
      start: () => {
        // The operation under way finishes first: a rollback would start the container again after the
        // teardown, a copy would make its folder again. A copy is stopped; a rollback, a pause or a resume is not.
        const busy = this.busy.get(id);
        if (busy && busy.work !== 'rollback') busy.stop.abort();
        work ??= (busy?.done ?? Promise.resolve()).then(() => this.tearDown(id)).finally(() => this.ending.delete(id));
        return work;
      },
    };
    this.ending.set(id, ending);
    return ending;
  }

  private tearDown(id: string): Promise<void> {
    return (
      this.deps.engine
        .destroy(id)
        .then(() => this.deps.network?.forget(id))
        // Only now is the volume free for another writer: the sandbox is gone from the host.
        .then(() => this.deps.volumes?.detach(id))
        .then(() => this.deps.afterEnd?.(id))
        .then(() => this.deps.sandboxes.markTornDown(id))
        .catch((err) => this.deps.logger.error({ err, sandbox: id }, 'teardown failed; the next start retries it'))
    );
  }
}
