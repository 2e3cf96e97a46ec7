import { chmodSync } from 'node:fs';
import Database from 'better-sqlite3';
import { chainExistingAuditRecords } from '../audit/audit-chain.js';

export type Db = Database.Database;

const migrations: string[] = [
  `CREATE TABLE sandboxes (
     id TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     template TEXT NOT NULL,
     tier TEXT NOT NULL,
     state TEXT NOT NULL,
     limits TEXT NOT NULL,
     metadata TEXT NOT NULL,
     env TEXT NOT NULL,
     workdir TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT,
     ended_at TEXT,
     end_reason TEXT
   );
   CREATE INDEX sandboxes_state ON sandboxes(state);
   CREATE TABLE templates (
     name TEXT PRIMARY KEY,
     parent TEXT,
     layers TEXT NOT NULL,
     env TEXT NOT NULL,
     workdir TEXT NOT NULL,
     user TEXT NOT NULL,
     created_at TEXT NOT NULL,
     size_bytes INTEGER NOT NULL
   );
   CREATE TABLE audit (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     ts TEXT NOT NULL,
     request_id TEXT,
     principal TEXT NOT NULL,
     action TEXT NOT NULL,
     resource TEXT NOT NULL,
     decision TEXT NOT NULL,
     outcome TEXT NOT NULL,
     details TEXT NOT NULL
   );
   CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
   CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;`,
  // The template's USER becomes the sandbox's default user for commands and files.
  `ALTER TABLE sandboxes ADD COLUMN default_user TEXT NOT NULL DEFAULT 'root';`,
  // Tenants and their tokens (stored as SHA-256 only); the audit log becomes a
  // hash chain whose head is signed from time to time.
  `CREATE TABLE tenants (
     name TEXT PRIMARY KEY,
     max_sandboxes INTEGER,
     max_memory_mib INTEGER,
     max_cpus REAL,
     max_snapshots INTEGER,
     created_at TEXT NOT NULL
   );
   INSERT INTO tenants (name, created_at) VALUES ('default', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
   CREATE TABLE tokens (
     id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL REFERENCES tenants(name),
     role TEXT NOT NULL,
     name TEXT,
     hash TEXT NOT NULL UNIQUE,
     created_at TEXT NOT NULL,
     revoked_at TEXT
   );
   CREATE INDEX sandboxes_live_by_owner ON sandboxes(owner) WHERE state != 'killed';
   DROP TRIGGER audit_append_only_update;
   ALTER TABLE audit ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
   ALTER TABLE audit ADD COLUMN duration_ms REAL;
   ALTER TABLE audit ADD COLUMN prev_hash TEXT;
   ALTER TABLE audit ADD COLUMN hash TEXT;
   CREATE TABLE audit_heads (
     seq INTEGER PRIMARY KEY,
     hash TEXT NOT NULL,
     signed_at TEXT NOT NULL,
     signature TEXT NOT NULL
   );`,
  // Requests a policy asked a human about, each bound to the hash of exactly that request.
  `CREATE TABLE approvals (
     id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     principal TEXT NOT NULL,
     action TEXT NOT NULL,
     resource TEXT NOT NULL,
     request_hash TEXT NOT NULL,
     context TEXT NOT NULL,
     reason TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     decided_by TEXT,
     decided_at TEXT,
     decision_reason TEXT,
     used_at TEXT
   );
   CREATE INDEX approvals_pending ON approvals(tenant, state);`,
  // Snapshots are templates too; a fork's layer is a hidden one, owned by the tenant that forked.
  `ALTER TABLE templates ADD COLUMN kind TEXT NOT NULL DEFAULT 'build';
   ALTER TABLE templates ADD COLUMN owner TEXT;
   UPDATE templates SET kind = 'base' WHERE parent IS NULL;`,
  // A paused sandbox's timeout clock stands still: what was left is kept here.
  `ALTER TABLE sandboxes ADD COLUMN paused_left_ms INTEGER;`,
  // Warm pools: ready sandboxes (owned by pool:<id> until claimed) per template, tier and limits.
  `CREATE TABLE pools (
     id TEXT PRIMARY KEY,
     template TEXT NOT NULL,
     tier TEXT NOT NULL,
     limits TEXT NOT NULL,
     size INTEGER NOT NULL,
     hits INTEGER NOT NULL DEFAULT 0,
     misses INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL,
     UNIQUE (template, tier, limits)
   );`,
  // At its timeout a sandbox is killed, or paused (auto-pause) if it asked.
  `ALTER TABLE sandboxes ADD COLUMN on_timeout TEXT NOT NULL DEFAULT 'kill';`,
  `ALTER TABLE tenants ADD COLUMN max_snapshot_mib INTEGER;`,
  // Which token made which: nobody approves their own requests through a token they minted.
  `ALTER TABLE tokens ADD COLUMN created_by TEXT;`,
  // Egress: each sandbox's network rules and the placeholders of its secrets; secrets sealed with the key file.
  `CREATE TABLE sandbox_networks (
     sandbox_id TEXT PRIMARY KEY,
     mode TEXT NOT NULL,
     allow TEXT NOT NULL,
     deny TEXT NOT NULL,
     secrets TEXT NOT NULL
   );
   CREATE TABLE secrets (
     owner TEXT NOT NULL,
     name TEXT NOT NULL,
     hosts TEXT NOT NULL,
     sealed BLOB NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (owner, name)
   );`,
  // The gateway's third-party MCP servers: what runs, under which manifest, and the tool descriptions an operator pinned.
  `CREATE TABLE gateway_servers (
     owner TEXT NOT NULL,
     name TEXT NOT NULL,
     command TEXT NOT NULL,
     manifest TEXT NOT NULL,
     pins TEXT,
     pinned_at TEXT,
     pin_on_ready INTEGER NOT NULL DEFAULT 0,
     created_by TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (owner, name)
   );`,
  // Which anchor (in the anchor log, outside the database) each signed head was written to.
  `ALTER TABLE audit_heads ADD COLUMN anchor INTEGER;
   ALTER TABLE audit_heads ADD COLUMN anchor_hash TEXT;`,
  // Who each token acts for (separation of duties is by owner, not by token); who asked and who decided each approval.
  `ALTER TABLE tokens ADD COLUMN owner TEXT;
   ALTER TABLE approvals ADD COLUMN owner TEXT;
   ALTER TABLE approvals ADD COLUMN decided_by_owner TEXT;
   ALTER TABLE approvals ADD COLUMN self_approved INTEGER NOT NULL DEFAULT 0;`,
  // Templates made from OCI images keep where they came from and the image's Entrypoint and Cmd (JSON).
  `ALTER TABLE templates ADD COLUMN image TEXT;`,
  // Logins to image registries, the password sealed like secrets; owner '*' is an admin's login shared by every tenant.
  `CREATE TABLE registry_logins (
     owner TEXT NOT NULL,
     host TEXT NOT NULL,
     username TEXT NOT NULL,
     sealed BLOB NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (owner, host)
   );`,
  // Template builds: each step's layer by the key of what made it (parent, instruction, inputs); a template's start command and labels.
  `CREATE TABLE build_cache (
     key TEXT PRIMARY KEY,
     layers TEXT NOT NULL,
     size_bytes INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     used_at TEXT NOT NULL
   );
   ALTER TABLE templates ADD COLUMN config TEXT;`,
  // Volumes: a tenant's named file systems, and which sandbox mounts which (a row per mount, from its launch until it is gone from the host).
  `CREATE TABLE volumes (
     id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     name TEXT NOT NULL,
     size_mib INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     UNIQUE (tenant, name)
   );
   CREATE TABLE volume_mounts (
     volume_id TEXT NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,
     sandbox_id TEXT NOT NULL,
     path TEXT NOT NULL,
     read_only INTEGER NOT NULL,
     PRIMARY KEY (volume_id, sandbox_id)
   );
   CREATE INDEX volume_mounts_sandbox ON volume_mounts(sandbox_id);
   ALTER TABLE tenants ADD COLUMN max_volumes INTEGER;
   ALTER TABLE tenants ADD COLUMN max_volume_mib INTEGER;`,
  // Capability tokens: a token's scope (JSON) and expiry, its use counts (each bumped by one atomic UPDATE), and the token it was narrowed from.
  `ALTER TABLE tokens ADD COLUMN scope TEXT;
   ALTER TABLE tokens ADD COLUMN scope_digest TEXT;
   ALTER TABLE tokens ADD COLUMN expires_at TEXT;
   ALTER TABLE tokens ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE tokens ADD COLUMN sandboxes_created INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE tokens ADD COLUMN parent TEXT;
   CREATE INDEX tokens_by_parent ON tokens(parent) WHERE parent IS NOT NULL;`,
  // A sandbox's writable layer: tmpfs (memory) or disk (an ext4 image on a loop device).
  `ALTER TABLE sandboxes ADD COLUMN writable_layer TEXT NOT NULL DEFAULT 'tmpfs';`,
  // Public links to a sandbox's ports: the secret is kept as its SHA-256 only; a revoked link keeps its row until its sandbox ends.
  `CREATE TABLE port_links (
     id TEXT PRIMARY KEY,
     digest TEXT NOT NULL UNIQUE,
     sandbox_id TEXT NOT NULL,
     tenant TEXT NOT NULL,
     port INTEGER NOT NULL,
     created_by TEXT NOT NULL,
     creator TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     revoked_at TEXT
   );
   CREATE INDEX port_links_sandbox ON port_links(sandbox_id);`,
  // Dashboard sign-ins: sessions and one-time login codes, each kept as the SHA-256 of its secret only,
  // and tied to the digest of the token they act as (revoking the token ends them); takeovers' terminal recordings.
  `CREATE TABLE sessions (
     digest TEXT PRIMARY KEY,
     token_digest TEXT NOT NULL,
     csrf_token TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL
   );
   CREATE INDEX sessions_by_token ON sessions(token_digest);
   CREATE TABLE login_codes (
     digest TEXT PRIMARY KEY,
     token_digest TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     used_at TEXT
   );
   CREATE TABLE recordings (
     session_id TEXT PRIMARY KEY,
     sandbox_id TEXT NOT NULL,
     tenant TEXT NOT NULL,
     by TEXT NOT NULL,
     started_at TEXT NOT NULL,
     ended_at TEXT,
     bytes INTEGER NOT NULL DEFAULT 0,
     sha256 TEXT
   );
   CREATE INDEX recordings_by_sandbox ON recordings(sandbox_id);`,
  // Who made a sandbox (the person its token acts for); sandboxes made before are nobody's known.
  `ALTER TABLE sandboxes ADD COLUMN created_by TEXT;`,
  // One owner's sandboxes in a state, newest first, without reading everyone's: a pool's claim (its newest running
  // sandbox) and a tenant's list. By state alone, both read every live sandbox of the host and sorted them.
  `CREATE INDEX sandboxes_by_owner ON sandboxes(owner, state, writable_layer, created_at, id);`,
  // Ended sandboxes whose teardown has not finished (a daemon stopped while they waited their turn, or a step
  // failed): the next start finishes it. Rows ended before this column existed count as torn down.
  `ALTER TABLE sandboxes ADD COLUMN teardown_pending INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX sandboxes_teardown_pending ON sandboxes(id) WHERE teardown_pending = 1;`,
];

/**
 * Steps that need code, run right after the SQL migration of the same index
 * (inside its transaction).
 */
const migrationHooks: Record<number, (db: Db) => void> = {
  // Records written before the chain existed get their hashes now; then the
  // table is append-only again.
  2: (db) => {
    chainExistingAuditRecords(db);
    db.exec(`CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
             CREATE TRIGGER audit_heads_append_only_update BEFORE UPDATE ON audit_heads BEGIN SELECT RAISE(ABORT, 'audit heads are append-only'); END;
             CREATE TRIGGER audit_heads_append_only_delete BEFORE DELETE ON audit_heads BEGIN SELECT RAISE(ABORT, 'audit heads are append-only'); END;`);
  },
  // Runs with the migration that gives tokens and approvals their owners.
  13: ownersForExistingTokens,
};

/**
 * Tokens made before owners existed: an agent token is an agent of its own;
 * any other acts for whoever made it, up to the bootstrap token's "admin".
 * This keeps what the old rule refused (approving through a token the asker
 * minted) refused; such tokens are best made again with --owner.
 */
function ownersForExistingTokens(db: Db): void {
  const rows = db.prepare('SELECT id, role, created_by FROM tokens ORDER BY created_at').all() as Array<{
    id: string;
    role: string;
    created_by: string | null;
  }>;
  const owners = new Map<string, string>([['admin', 'admin']]);
  const ownerOf = (id: string | null, seen = 0): string => {
    if (!id || seen > 100) return 'admin';
    const known = owners.get(id);
    if (known) return known;
    const row = rows.find((r) => r.id === id);
    const owner = !row ? 'admin' : row.role === 'agent' ? `agent:${row.id}` : ownerOf(row.created_by, seen + 1);
    owners.set(id, owner);
    return owner;
  };
  const set = db.prepare('UPDATE tokens SET owner = ? WHERE id = ?');
  for (const row of rows) set.run(ownerOf(row.id), row.id);
  db.prepare("UPDATE approvals SET owner = coalesce((SELECT owner FROM tokens WHERE tokens.id = approvals.principal), 'admin')").run();
}

/** The version a database has once the first migration whose SQL contains `fragment` has run (tests rebuild older databases with it). */
export function versionAfter(fragment: string): number {
  const index = migrations.findIndex((m) => m.includes(fragment));
  if (index < 0) throw new Error(`no migration contains ${fragment}`);
  return index + 1;
}

/** Distinct SQL texts whose statements are kept (the daemon's queries are a few dozen shapes). */
const maxKeptStatements = 256;

/**
 * Makes db.prepare keep each statement it compiled, by its SQL text: stores
 * prepare their queries where they run them (the query's shape often depends
 * on the call), and compiling one costs 0.05–0.3 ms, several times on each
 * create or claim. A statement still being iterated when the same SQL is
 * asked for again gets a fresh one. Kept statements are shared: nothing may
 * switch one's mode (pluck, raw, expand, safeIntegers) — none does.
 */
export function rememberStatements(db: Db): void {
  const compile = db.prepare.bind(db);
  const kept = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    const known = kept.get(sql);
    if (known && !known.busy) return known;
    const statement = compile(sql);
    if (known) return statement;
    kept.set(sql, statement);
    if (kept.size > maxKeptStatements) kept.delete(kept.keys().next().value as string);
    return statement;
  }) as Db['prepare'];
}

/** Opens (and migrates) the daemon's SQLite database; `upTo` stops at an older version (tests of a migration). */
export function openDatabase(file: string, upTo = migrations.length): Db {
  const db = new Database(file);
  // SQLite gives the -wal and -shm files the main file's mode, so set it first.
  chmodSync(file, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  rememberStatements(db);
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < upTo; v++) {
    db.transaction(() => {
      db.exec(migrations[v] as string);
      migrationHooks[v]?.(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
