import type { Limits, SandboxControl, SandboxInfo, SandboxState, Tier, WritableLayer } from '@paddock/core';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/**
 * A sandbox as stored; who controls it (a takeover) is the daemon's live state, not a column.
 * `owner` here is what decides access (the tenant, or a gateway's); the API's `owner` is `createdBy`.
 */
export interface SandboxRecord extends Omit<SandboxInfo, 'control' | 'owner'> {
  owner: string;
  /** The person the creating token acts for; null when the daemon made it (builds, pools, gateway servers). */
  createdBy: string | null;
  env: Record<string, string>;
  workdir: string;
  /** Who commands and file operations run as when the request names nobody. */
  defaultUser: string;
  /** While paused: the lifetime left when it was paused (the clock stands still). */
  pausedLeftMs?: number | null;
}

interface Row {
  id: string;
  owner: string;
  template: string;
  tier: string;
  state: string;
  limits: string;
  metadata: string;
  env: string;
  workdir: string;
  default_user: string;
  created_at: string;
  expires_at: string | null;
  ended_at: string | null;
  end_reason: string | null;
  paused_left_ms?: number | null;
  on_timeout?: 'kill' | 'pause';
  writable_layer?: WritableLayer;
  created_by?: string | null;
}

export interface SandboxFilter {
  owner: string;
  states?: SandboxState[];
  labels?: Record<string, string>;
}

/** What became of a sandbox's row: made (or handed to a new owner), changed, or ended. */
export type SandboxChange = 'created' | 'updated' | 'ended';

export class SandboxStore {
  private readonly byId: Statement;

  /** onChange hears of every row that changed, after the change (live events are made from it). */
  constructor(
    private readonly db: Db,
    private readonly onChange: (id: string, change: SandboxChange) => void = () => {},
  ) {
    // The hot path (every request looks its sandbox up) gets a statement prepared once.
    this.byId = db.prepare('SELECT * FROM sandboxes WHERE id = ?');
  }

  insert(r: SandboxRecord): void {
    this.db
      .prepare(
        `INSERT INTO sandboxes (id, owner, template, tier, state, limits, metadata, env, workdir, default_user, created_at, expires_at, ended_at, end_reason, on_timeout, writable_layer, created_by)
         VALUES (@id, @owner, @template, @tier, @state, @limits, @metadata, @env, @workdir, @default_user, @created_at, @expires_at, @ended_at, @end_reason, @on_timeout, @writable_layer, @created_by)`,
      )
      .run(toRow(r));
    this.onChange(r.id, 'created');
  }

  get(id: string): SandboxRecord | undefined {
    const row = this.byId.get(id) as Row | undefined;
    return row && fromRow(row);
  }

  list(filter: SandboxFilter): SandboxRecord[] {
    const states = filter.states ?? ['running', 'paused'];
    const rows = this.db
      .prepare(`SELECT * FROM sandboxes WHERE owner = ? AND state IN (${states.map(() => '?').join(',')}) ORDER BY created_at DESC`)
      .all(filter.owner, ...states) as Row[];
    const wanted = Object.entries(filter.labels ?? {});
    return rows.map(fromRow).filter((r) => wanted.every(([k, v]) => r.metadata[k] === v));
  }

  /** The `count` newest running sandboxes of `owner` with this writable layer: a pool's claim reads a row or two, not the whole pool. */
  newestRunning(owner: string, writableLayer: WritableLayer, count: number): SandboxRecord[] {
    // The count is written into the query, not bound: a bound LIMIT may change SQLite's plan, so SQLite compiled
    // the statement again at every run (0.3 ms of a claim's POST on a young daemon). Its few values each keep a statement.
    const limit = Math.max(1, Math.trunc(count));
    const rows = this.db
      .prepare(`SELECT * FROM sandboxes WHERE owner = ? AND state = 'running' AND writable_layer = ? ORDER BY created_at DESC, id DESC LIMIT ${limit}`)
      .all(owner, writableLayer) as Row[];
    return rows.map(fromRow);
  }

  /** The ids of an owner's running sandboxes, newest first: what counting a pool needs, without reading and parsing whole rows. */
  runningIds(owner: string): string[] {
    const rows = this.db.prepare("SELECT id FROM sandboxes WHERE owner = ? AND state = 'running' ORDER BY created_at DESC").all(owner) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  }

  /** Sandboxes the daemon believes are alive, whoever owns them. */
  live(): SandboxRecord[] {
    return (this.db.prepare(`SELECT * FROM sandboxes WHERE state IN ('running', 'paused')`).all() as Row[]).map(fromRow);
  }

  /** Running sandboxes, whoever owns them: what the metrics sampler reads, with what decides who sees it. */
  running(): Array<{ id: string; owner: string; metadata: Record<string, string> }> {
    const rows = this.db.prepare(`SELECT id, owner, metadata FROM sandboxes WHERE state = 'running'`).all() as Array<{
      id: string;
      owner: string;
      metadata: string;
    }>;
    return rows.map((r) => ({ id: r.id, owner: r.owner, metadata: JSON.parse(r.metadata) as Record<string, string> }));
  }

  /** Live sandboxes by owner and state, for the daemon's statistics. */
  countByOwner(): Array<{ owner: string; state: string; n: number }> {
    return this.db.prepare(`SELECT owner, state, count(*) AS n FROM sandboxes WHERE state IN ('running', 'paused') GROUP BY owner, state`).all() as Array<{
      owner: string;
      state: string;
      n: number;
    }>;
  }

  /** Live sandboxes by state, for metrics. */
  countByState(): Record<string, number> {
    const rows = this.db.prepare(`SELECT state, count(*) AS n FROM sandboxes WHERE state IN ('running', 'paused') GROUP BY state`).all() as Array<{
      state: string;
      n: number;
    }>;
    return { running: 0, paused: 0, ...Object.fromEntries(rows.map((r) => [r.state, r.n])) };
  }

  setState(id: string, state: SandboxState): void {
    // A killed sandbox stays killed, whatever a slower operation on it reports afterwards.
    const { changes } = this.db.prepare("UPDATE sandboxes SET state = ? WHERE id = ? AND state != 'killed'").run(state, id);
    if (changes) this.onChange(id, state === 'killed' ? 'ended' : 'updated');
  }

  /** A pooled sandbox becomes its claimer's, as if made now. */
  transfer(r: Pick<SandboxRecord, 'id' | 'owner' | 'createdBy' | 'metadata' | 'env' | 'createdAt' | 'expiresAt' | 'onTimeout'>): void {
    const { changes } = this.db
      .prepare('UPDATE sandboxes SET owner = ?, created_by = ?, metadata = ?, env = ?, created_at = ?, expires_at = ?, on_timeout = ? WHERE id = ?')
      .run(r.owner, r.createdBy, JSON.stringify(r.metadata), JSON.stringify(r.env), r.createdAt, r.expiresAt, r.onTimeout, r.id);
    // To its claimer a pooled sandbox is new.
    if (changes) this.onChange(r.id, 'created');
  }

  /** Paused: the timeout clock stops with `leftMs` to go. */
  markPaused(id: string, leftMs: number | null): void {
    const { changes } = this.db
      .prepare("UPDATE sandboxes SET state = 'paused', expires_at = NULL, paused_left_ms = ? WHERE id = ? AND state != 'killed'")
      .run(leftMs, id);
    if (changes) this.onChange(id, 'updated');
  }

  /** Running again, to be killed at `expiresAt`. */
  markResumed(id: string, expiresAt: string | null): void {
    const { changes } = this.db
      .prepare("UPDATE sandboxes SET state = 'running', expires_at = ?, paused_left_ms = NULL WHERE id = ? AND state != 'killed'")
      .run(expiresAt, id);
    if (changes) this.onChange(id, 'updated');
  }

  setPausedLeft(id: string, leftMs: number): void {
    const { changes } = this.db.prepare('UPDATE sandboxes SET paused_left_ms = ? WHERE id = ?').run(leftMs, id);
    if (changes) this.onChange(id, 'updated');
  }

  setExpiry(id: string, expiresAt: string): void {
    const { changes } = this.db.prepare('UPDATE sandboxes SET expires_at = ? WHERE id = ?').run(expiresAt, id);
    if (changes) this.onChange(id, 'updated');
  }

  /** Ends the sandbox's record; with `tearDown` its teardown is owed until markTornDown (a restart finishes it). */
  markEnded(id: string, reason: string, { tearDown = true }: { tearDown?: boolean } = {}): void {
    const { changes } = this.db
      .prepare(
        `UPDATE sandboxes SET state = 'killed', ended_at = ?, end_reason = ?, expires_at = NULL, teardown_pending = ? WHERE id = ? AND state != 'killed'`,
      )
      .run(new Date().toISOString(), reason, tearDown ? 1 : 0, id);
    if (changes) this.onChange(id, 'ended');
  }

  markTornDown(id: string): void {
    this.db.prepare('UPDATE sandboxes SET teardown_pending = 0 WHERE id = ? AND teardown_pending = 1').run(id);
  }

  /** Ended sandboxes whose teardown has not finished. */
  pendingTeardowns(): string[] {
    return (this.db.prepare('SELECT id FROM sandboxes WHERE teardown_pending = 1').all() as Array<{ id: string }>).map((r) => r.id);
  }
}

function toRow(r: SandboxRecord): Row {
  return {
    id: r.id,
    owner: r.owner,
    template: r.template,
    tier: r.tier,
    state: r.state,
    limits: JSON.stringify(r.limits),
    metadata: JSON.stringify(r.metadata),
    env: JSON.stringify(r.env),
    workdir: r.workdir,
    default_user: r.defaultUser,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    ended_at: r.endedAt,
    end_reason: r.endReason,
    on_timeout: r.onTimeout,
    writable_layer: r.writableLayer,
    created_by: r.createdBy,
  };
}

function fromRow(row: Row): SandboxRecord {
  return {
    id: row.id,
    owner: row.owner,
    template: row.template,
    tier: row.tier as Tier,
    state: row.state as SandboxState,
    limits: JSON.parse(row.limits) as Limits,
    writableLayer: row.writable_layer ?? 'tmpfs',
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    env: JSON.parse(row.env) as Record<string, string>,
    workdir: row.workdir,
    defaultUser: row.default_user,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    pausedLeftMs: row.paused_left_ms ?? null,
    onTimeout: row.on_timeout ?? 'kill',
    createdBy: row.created_by ?? null,
  };
}

/** The sandbox as the API shows it; `control` says whether a person has taken it over. */
export function toSandboxInfo(r: SandboxRecord, control: SandboxControl = { mode: 'agent' }): SandboxInfo {
  const { owner: _owner, createdBy, env: _env, workdir: _workdir, defaultUser: _defaultUser, pausedLeftMs: _left, ...info } = r;
  return { ...info, owner: createdBy, control };
}
