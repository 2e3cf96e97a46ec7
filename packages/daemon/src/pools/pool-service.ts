import { randomBytes } from 'node:crypto';
import {
  defaultLimits,
  type Limits,
  NotFoundError,
  type PoolInfo,
  type PoolSet,
  PoolSetSchema,
  TemplateNotFoundError,
  type Tier,
  type WritableLayer,
} from '@paddock/core';
import type { Logger } from 'pino';
import type { SandboxService } from '../sandboxes/sandbox-service.js';
import type { Db } from '../store/database.js';
import type { SandboxRecord, SandboxStore } from '../store/sandbox-store.js';
import type { TemplateStore } from '../store/template-store.js';

interface PoolRow {
  id: string;
  template: string;
  tier: Tier;
  limits: string;
  size: number;
  hits: number;
  misses: number;
  created_at: string;
}

/** What a create asks for, once its tier and limits are settled. */
export interface ClaimRequest {
  template: string;
  tier: Tier;
  limits: Limits;
  writableLayer: WritableLayer;
}

/** Pooled sandboxes belong to no tenant until claimed: nobody lists, uses or counts them. */
const poolOwner = (poolId: string) => `pool:${poolId}`;
/** A pooled sandbox waits at most this long, then is replaced by a fresh one. */
const pooledLifetimeMs = 24 * 3_600_000;
/**
 * How long a claim's refill waits before it starts. Making a sandbox takes
 * both cores for a while (runc, mounts, the agent's start); started at once it
 * competes with the first commands of the sandbox just handed out, which is
 * what the caller is waiting on. A refill a quarter second later empties the
 * pool no sooner in practice: a create takes longer than that anyway.
 */
const refillDelayMs = 250;

/**
 * Warm pools: per template, tier and limits, a number of sandboxes made in
 * advance. A create that matches takes one (it becomes the caller's, with its
 * labels, environment and timeout, as if just made: it never ran anything),
 * and the pool makes another in the background.
 */
export class PoolService {
  private readonly filling = new Map<string, Promise<void>>();
  private readonly lastRefillMs = new Map<string, number>();
  private readonly refills = new Set<NodeJS.Timeout>();
  /** Pooled sandboxes made but not yet warmed: not counted ready, and handed out only when a pool has no other. */
  private readonly warming = new Set<string>();
  private stopped = false;

  constructor(
    private readonly deps: {
      db: Db;
      sandboxes: SandboxService;
      sandboxStore: SandboxStore;
      templates: TemplateStore;
      logger: Logger;
      /** Told of each claim a pool answered, hit or miss, for the daemon's statistics. */
      counted?: (owner: string, hit: boolean) => void;
      /** Readies a pooled sandbox further once it runs (a code-interpreter's kernel); a failure leaves it as made. */
      warm?: (record: SandboxRecord) => Promise<void>;
    },
  ) {}

  set(input: PoolSet): PoolInfo {
    const request = PoolSetSchema.parse(input);
    // Only shared templates: a tenant's snapshot is not for every tenant's creates (nor could the pool use it).
    if (this.deps.templates.get(request.template)?.owner !== null) throw new TemplateNotFoundError(request.template);
    const tier = request.tier ?? 'container';
    this.deps.sandboxes.checkLimits({ ...defaultLimits, ...request.limits });
    const limits = canonicalLimits({ ...defaultLimits, ...request.limits });
    const existing = this.rowFor(request.template, tier, limits);
    if (existing) {
      this.deps.db.prepare('UPDATE pools SET size = ? WHERE id = ?').run(request.size, existing.id);
    } else {
      this.deps.db
        .prepare('INSERT INTO pools (id, template, tier, limits, size, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(`pool_${randomBytes(6).toString('hex')}`, request.template, tier, limits, request.size, new Date().toISOString());
    }
    const row = this.rowFor(request.template, tier, limits) as PoolRow;
    void this.fill(row.id);
    return this.info(row);
  }

  list(): PoolInfo[] {
    return (this.deps.db.prepare('SELECT * FROM pools ORDER BY template, created_at').all() as PoolRow[]).map((r) => this.info(r));
  }

  /** Removes a pool and kills the sandboxes it kept. */
  async remove(id: string): Promise<void> {
    if (!this.row(id)) throw new NotFoundError(`pool ${id} not found`, { id }, 'pool_not_found');
    this.deps.db.prepare('DELETE FROM pools WHERE id = ?').run(id);
    await this.filling.get(id);
    await this.deps.sandboxes.killAll(poolOwner(id));
  }

  /**
   * Hands a ready sandbox of the matching pool to `owner`, or undefined when
   * no pool matches (or it is empty, which counts as a miss).
   */
  claim(owner: string, request: ClaimRequest): SandboxRecord | undefined {
    // A pool filling itself makes new sandboxes, it does not take its own.
    if (owner.startsWith('pool:')) return undefined;
    const pool = this.rowFor(request.template, request.tier, canonicalLimits(request.limits));
    if (!pool) return undefined;
    // A pool's sandboxes have the operator's writable layer (as it was when they were made). The newest goes first (made
    // last, the most of it is still in the CPU's caches), unless it is still being warmed: that would run beside the
    // claimer's first commands. One being warmed is still taken before a miss: a cold create is slower.
    const newest = this.deps.sandboxStore.newestRunning(poolOwner(pool.id), request.writableLayer, this.warming.size + 1);
    const ready = newest.find((s) => !this.warming.has(s.id)) ?? newest[0];
    if (!ready) {
      this.deps.db.prepare('UPDATE pools SET misses = misses + 1 WHERE id = ?').run(pool.id);
      this.deps.counted?.(owner, false);
      void this.fill(pool.id);
      return undefined;
    }
    this.deps.db.prepare('UPDATE pools SET hits = hits + 1 WHERE id = ?').run(pool.id);
    this.deps.counted?.(owner, true);
    // Refill once the caller has taken it over (it is still the pool's until then) and has had a moment to use it.
    const timer = setTimeout(() => {
      this.refills.delete(timer);
      void this.fill(pool.id);
    }, refillDelayMs);
    this.refills.add(timer);
    return ready;
  }

  /** Fills every pool (after start-up). */
  start(): void {
    for (const pool of this.list()) void this.fill(pool.id);
  }

  /** A template was rebuilt or removed: its pools' sandboxes are replaced (or, without the template, dropped). */
  async templateChanged(name: string): Promise<void> {
    const pools = this.list().filter((p) => p.template === name);
    for (const pool of pools) {
      await this.filling.get(pool.id);
      await this.deps.sandboxes.killAll(poolOwner(pool.id));
      if (this.deps.templates.get(name)) void this.fill(pool.id);
      else this.deps.db.prepare('DELETE FROM pools WHERE id = ?').run(pool.id);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.refills) clearTimeout(timer);
    this.refills.clear();
  }

  /** Makes sandboxes one at a time until the pool holds its size; one filler per pool. */
  private fill(id: string): Promise<void> {
    const running = this.filling.get(id);
    if (running) return running;
    const work = (async () => {
      for (;;) {
        if (this.stopped) return;
        const pool = this.row(id);
        if (!pool) return;
        const ready = this.deps.sandboxStore.runningIds(poolOwner(id));
        if (ready.length >= pool.size) {
          // A smaller size: the surplus (the oldest) goes.
          for (const surplus of ready.slice(pool.size)) await this.deps.sandboxes.kill(poolOwner(id), surplus).catch(() => {});
          return;
        }
        const started = performance.now();
        try {
          const record = await this.deps.sandboxes.create(
            poolOwner(id),
            { template: pool.template, tier: pool.tier, limits: JSON.parse(pool.limits) as Limits, timeoutMs: pooledLifetimeMs },
            {},
          );
          if (this.deps.warm) {
            this.warming.add(record.id);
            await this.deps
              .warm(record)
              .then(
                () => this.deps.logger.info({ pool: id, sandbox: record.id }, 'pooled sandbox warmed'),
                (err) => this.deps.logger.warn({ err, pool: id, sandbox: record.id }, 'a pooled sandbox could not be warmed'),
              )
              .finally(() => this.warming.delete(record.id));
          }
          this.lastRefillMs.set(id, performance.now() - started);
        } catch (err) {
          this.deps.logger.error({ err, pool: id }, 'pool refill failed; trying again later');
          await new Promise((r) => setTimeout(r, 2000).unref());
        }
      }
    })().finally(() => this.filling.delete(id));
    this.filling.set(id, work);
    return work;
  }

  private row(id: string): PoolRow | undefined {
    return this.deps.db.prepare('SELECT * FROM pools WHERE id = ?').get(id) as PoolRow | undefined;
  }

  private rowFor(template: string, tier: Tier, limits: string): PoolRow | undefined {
    return this.deps.db.prepare('SELECT * FROM pools WHERE template = ? AND tier = ? AND limits = ?').get(template, tier, limits) as PoolRow | undefined;
  }

  private info(r: PoolRow): PoolInfo {
    return {
      id: r.id,
      template: r.template,
      tier: r.tier,
      limits: JSON.parse(r.limits) as Limits,
      size: r.size,
      ready: this.deps.sandboxStore.runningIds(poolOwner(r.id)).filter((id) => !this.warming.has(id)).length,
      hits: r.hits,
      misses: r.misses,
      lastRefillMs: this.lastRefillMs.has(r.id) ? Math.round((this.lastRefillMs.get(r.id) as number) * 10) / 10 : null,
      createdAt: r.created_at,
    };
  }
}

/** Limits as a key: the same limits always give the same text. */
function canonicalLimits(l: Limits): string {
  return JSON.stringify({ memoryMiB: l.memoryMiB, cpus: l.cpus, pids: l.pids, diskMiB: l.diskMiB });
}
