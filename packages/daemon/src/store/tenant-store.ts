import { ownerKindOf, type Quotas, type Role, type StoredTokenScope, type TenantInfo, type TokenInfo } from '@paddock/core';
import type { Statement } from 'better-sqlite3';
import { gatewayOwner } from '../sandboxes/sandbox-owners.js';
import type { Db } from './database.js';

interface TenantRow {
  name: string;
  max_sandboxes: number | null;
  max_memory_mib: number | null;
  max_cpus: number | null;
  max_snapshots: number | null;
  max_snapshot_mib: number | null;
  max_volumes: number | null;
  max_volume_mib: number | null;
  created_at: string;
}

export interface TenantUsage {
  sandboxes: number;
  memoryMiB: number;
  cpus: number;
}

/** Tenants and their quotas; usage is read from the sandboxes they own. */
export class TenantStore {
  constructor(private readonly db: Db) {}

  create(name: string, quotas: Partial<Quotas>): void {
    this.db
      .prepare(
        'INSERT INTO tenants (name, max_sandboxes, max_memory_mib, max_cpus, max_snapshots, max_snapshot_mib, max_volumes, max_volume_mib, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        name,
        quotas.maxSandboxes ?? null,
        quotas.maxMemoryMiB ?? null,
        quotas.maxCpus ?? null,
        quotas.maxSnapshots ?? null,
        quotas.maxSnapshotMiB ?? null,
        quotas.maxVolumes ?? null,
        quotas.maxVolumeMiB ?? null,
        new Date().toISOString(),
      );
  }

  get(name: string): TenantInfo | undefined {
    const row = this.db.prepare('SELECT * FROM tenants WHERE name = ?').get(name) as TenantRow | undefined;
    return row ? this.toInfo(row) : undefined;
  }

  /** A tenant's sandbox quotas alone (null: none set), without the usage get() sums up; undefined when there is no such tenant. */
  sandboxQuotas(name: string): Pick<Quotas, 'maxSandboxes' | 'maxMemoryMiB' | 'maxCpus'> | undefined {
    const row = this.db.prepare('SELECT max_sandboxes, max_memory_mib, max_cpus FROM tenants WHERE name = ?').get(name) as
      | Pick<TenantRow, 'max_sandboxes' | 'max_memory_mib' | 'max_cpus'>
      | undefined;
    return row && { maxSandboxes: row.max_sandboxes, maxMemoryMiB: row.max_memory_mib, maxCpus: row.max_cpus };
  }

  list(): TenantInfo[] {
    return (this.db.prepare('SELECT * FROM tenants ORDER BY name').all() as TenantRow[]).map((r) => this.toInfo(r));
  }

  update(name: string, quotas: Partial<Quotas>): void {
    const columns: Record<keyof Quotas, string> = {
      maxSandboxes: 'max_sandboxes',
      maxMemoryMiB: 'max_memory_mib',
      maxCpus: 'max_cpus',
      maxSnapshots: 'max_snapshots',
      maxSnapshotMiB: 'max_snapshot_mib',
      maxVolumes: 'max_volumes',
      maxVolumeMiB: 'max_volume_mib',
    };
    for (const [key, value] of Object.entries(quotas) as Array<[keyof Quotas, number | null | undefined]>) {
      if (value === undefined) continue;
      this.db.prepare(`UPDATE tenants SET ${columns[key]} = ? WHERE name = ?`).run(value, name);
    }
  }

  delete(name: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM tokens WHERE tenant = ?').run(name);
      // A tenant made later under the same name must find nothing of this one.
      this.db.prepare("DELETE FROM sandboxes WHERE owner IN (?, ?) AND state = 'killed'").run(name, gatewayOwner(name));
      this.db.prepare('DELETE FROM approvals WHERE tenant = ?').run(name);
      this.db.prepare('DELETE FROM secrets WHERE owner = ?').run(name);
      this.db.prepare('DELETE FROM tenants WHERE name = ?').run(name);
    })();
  }

  /** Templates (snapshots, builds) the tenant owns. */
  templatesOf(name: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM templates WHERE owner = ?').get(name) as { n: number }).n;
  }

  /** Volumes the tenant keeps. */
  volumesOf(name: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM volumes WHERE tenant = ?').get(name) as { n: number }).n;
  }

  /** The tenant's sandboxes that were killed but whose teardown has not finished (their rows must stay until it does). */
  endingSandboxesOf(name: string): number {
    return (
      this.db
        .prepare("SELECT count(*) AS n FROM sandboxes WHERE owner IN (?, ?) AND state = 'killed' AND teardown_pending = 1")
        .get(name, gatewayOwner(name)) as {
        n: number;
      }
    ).n;
  }

  /** Gateway servers the tenant has. */
  gatewayServersOf(name: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM gateway_servers WHERE owner = ?').get(name) as { n: number }).n;
  }

  /** What a tenant's live sandboxes hold, those its gateway servers run in included. */
  usage(name: string): TenantUsage {
    const row = this.db
      .prepare(
        `SELECT count(*) AS sandboxes,
                coalesce(sum(json_extract(limits, '$.memoryMiB')), 0) AS memoryMiB,
                coalesce(sum(json_extract(limits, '$.cpus')), 0) AS cpus
         FROM sandboxes WHERE owner IN (?, ?) AND state != 'killed'`,
      )
      .get(name, gatewayOwner(name)) as TenantUsage;
    return { sandboxes: row.sandboxes, memoryMiB: row.memoryMiB, cpus: Math.round(row.cpus * 1000) / 1000 };
  }

  private toInfo(r: TenantRow): TenantInfo {
    return {
      name: r.name,
      createdAt: r.created_at,
      maxSandboxes: r.max_sandboxes,
      maxMemoryMiB: r.max_memory_mib,
      maxCpus: r.max_cpus,
      maxSnapshots: r.max_snapshots,
      maxSnapshotMiB: r.max_snapshot_mib,
      maxVolumes: r.max_volumes,
      maxVolumeMiB: r.max_volume_mib,
      usage: this.usage(r.name),
    };
  }
}

interface TokenRow {
  id: string;
  tenant: string;
  role: Role;
  name: string | null;
  owner: string | null;
  hash: string;
  created_at: string;
  revoked_at: string | null;
  scope: string | null;
  scope_digest: string | null;
  expires_at: string | null;
  uses: number;
  sandboxes_created: number;
  parent: string | null;
}

export interface NewToken {
  id: string;
  tenant: string;
  role: Role;
  name: string | null;
  owner: string;
  hash: string;
  createdBy: string;
  scope: StoredTokenScope | null;
  scopeDigest: string | null;
  expiresAt: string | null;
  parent: string | null;
}

/** API tokens, kept only as SHA-256 digests of their secrets. */
export class TokenStore {
  // A capability token's every call counts a use: its statements are prepared once.
  private readonly useOne: Statement;
  private readonly sandboxOne: Statement;

  constructor(private readonly db: Db) {
    this.useOne = db.prepare('UPDATE tokens SET uses = uses + 1 WHERE id = ? AND revoked_at IS NULL AND uses < ? RETURNING uses');
    this.sandboxOne = db.prepare(
      'UPDATE tokens SET sandboxes_created = sandboxes_created + 1 WHERE id = ? AND sandboxes_created < ? RETURNING sandboxes_created',
    );
  }

  insert(token: NewToken): TokenInfo {
    const createdAt = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO tokens (id, tenant, role, name, owner, hash, created_at, created_by, scope, scope_digest, expires_at, parent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        token.id,
        token.tenant,
        token.role,
        token.name,
        token.owner,
        token.hash,
        createdAt,
        token.createdBy,
        token.scope ? JSON.stringify(token.scope) : null,
        token.scopeDigest,
        token.expiresAt,
        token.parent,
      );
    return this.get(token.id) as TokenInfo;
  }

  /** The people (not agents) that live tokens act for, in every tenant; an expired token holds nobody. */
  humanOwners(): string[] {
    const rows = this.db
      .prepare(
        "SELECT DISTINCT owner FROM tokens WHERE revoked_at IS NULL AND owner NOT LIKE 'agent:%' AND (expires_at IS NULL OR expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
      )
      .all() as Array<{ owner: string }>;
    return rows.map((r) => r.owner);
  }

  /** The live token with this digest, if any (an expired one included: the caller says why it no longer works). */
  findByHash(hash: string): TokenInfo | undefined {
    const row = this.db.prepare('SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL').get(hash) as TokenRow | undefined;
    return row ? toTokenInfo(row) : undefined;
  }

  get(id: string): TokenInfo | undefined {
    const row = this.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return row ? toTokenInfo(row) : undefined;
  }

  list(tenant?: string): TokenInfo[] {
    const rows = tenant
      ? (this.db.prepare('SELECT * FROM tokens WHERE tenant = ? ORDER BY created_at').all(tenant) as TokenRow[])
      : (this.db.prepare('SELECT * FROM tokens ORDER BY tenant, created_at').all() as TokenRow[]);
    return rows.map(toTokenInfo);
  }

  /**
   * Counts one use, if the token has one left: a single UPDATE, so concurrent
   * requests can never both take the last one. False when none is left.
   */
  takeUse(id: string, max: number | undefined): boolean {
    return this.useOne.get(id, max ?? Number.MAX_SAFE_INTEGER) !== undefined;
  }

  /** Counts one sandbox created, if the token may create another (as takeUse). */
  takeSandbox(id: string, max: number | undefined): boolean {
    return this.sandboxOne.get(id, max ?? Number.MAX_SAFE_INTEGER) !== undefined;
  }

  /** Gives back a sandbox taken for a create that failed. */
  returnSandbox(id: string): void {
    this.db.prepare('UPDATE tokens SET sandboxes_created = sandboxes_created - 1 WHERE id = ? AND sandboxes_created > 0').run(id);
  }

  /** Revokes every live token of this name (and what was narrowed from each). */
  revokeNamed(name: string): void {
    const rows = this.db.prepare('SELECT id FROM tokens WHERE name = ? AND revoked_at IS NULL').all(name) as Array<{ id: string }>;
    for (const { id } of rows) this.revoke(id);
  }

  /** Revokes the token and every token narrowed from it, however deep: a copy never outlives what it was cut from. */
  revoke(id: string): void {
    this.db
      .prepare(
        `WITH RECURSIVE tree(id) AS (SELECT ? UNION SELECT tokens.id FROM tokens JOIN tree ON tokens.parent = tree.id)
         UPDATE tokens SET revoked_at = ? WHERE id IN (SELECT id FROM tree) AND revoked_at IS NULL`,
      )
      .run(id, new Date().toISOString());
  }
}

function toTokenInfo(r: TokenRow): TokenInfo {
  // Every token has an owner since the migration that added them; a missing one is nobody's, so nobody approves as it.
  const owner = r.owner ?? `agent:${r.id}`;
  return {
    id: r.id,
    tenant: r.tenant,
    role: r.role,
    name: r.name,
    owner,
    ownerKind: ownerKindOf(owner),
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    scope: r.scope === null ? null : (JSON.parse(r.scope) as StoredTokenScope),
    expiresAt: r.expires_at,
    uses: r.uses,
    sandboxesCreated: r.sandboxes_created,
    scopeDigest: r.scope_digest,
    parent: r.parent,
  };
}
