import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, versionAfter } from './database.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('database migrations', () => {
  // F14: tokens made before owners existed must not become strangers to the
  // token that made them, or an operator's minted token could approve its requests.
  it('F14: gives tokens made before owners their maker’s owner, and agents one of their own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-db-'));
    dirs.push(dir);
    const file = join(dir, 'paddock.db');
    // The database as the release before owners left it.
    const db = openDatabase(file, versionAfter('ALTER TABLE tokens ADD COLUMN owner') - 1);
    const token = db.prepare("INSERT INTO tokens (id, tenant, role, hash, created_at, created_by) VALUES (?, 'default', ?, ?, ?, ?)");
    token.run('tok_op', 'operator', 'h1', '2026-01-01T00:00:01Z', 'admin');
    token.run('tok_minted', 'operator', 'h2', '2026-01-01T00:00:02Z', 'tok_op');
    token.run('tok_agent', 'agent', 'h3', '2026-01-01T00:00:03Z', 'tok_op');
    db.prepare(
      "INSERT INTO approvals (id, tenant, principal, action, resource, request_hash, context, reason, state, created_at, expires_at) VALUES ('ap_1', 'default', 'tok_agent', 'sandbox.exec', 'sandbox:sb-1', 'x', '{}', 'r', 'pending', 'now', 'later')",
    ).run();
    db.close();

    const migrated = openDatabase(file);
    const owners = migrated.prepare('SELECT id, owner FROM tokens ORDER BY id').all();
    expect(owners).toEqual([
      { id: 'tok_agent', owner: 'agent:tok_agent' },
      { id: 'tok_minted', owner: 'admin' },
      { id: 'tok_op', owner: 'admin' },
    ]);
    expect(migrated.prepare("SELECT owner, self_approved FROM approvals WHERE id = 'ap_1'").get()).toEqual({ owner: 'agent:tok_agent', self_approved: 0 });
    migrated.close();
  });
});

describe('kept statements', () => {
  it('compiles a query once, and gives a query still being iterated a statement of its own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-db-'));
    dirs.push(dir);
    const db = openDatabase(join(dir, 'paddock.db'));
    const sql = "INSERT INTO tokens (id, tenant, role, hash, created_at, created_by) VALUES (?, 'default', 'agent', ?, 'now', 'admin')";
    expect(db.prepare(sql)).toBe(db.prepare(sql));
    for (const id of ['tok_1', 'tok_2', 'tok_3']) db.prepare(sql).run(id, `h-${id}`);
    const list = 'SELECT id FROM tokens ORDER BY id';
    const pairs: string[] = [];
    // The same query inside its own iteration: the outer one is busy, so the inner gets another statement.
    for (const outer of db.prepare(list).iterate() as IterableIterator<{ id: string }>) {
      const inner = db.prepare(list).all() as Array<{ id: string }>;
      pairs.push(`${outer.id}:${inner.length}`);
    }
    expect(pairs).toEqual(['tok_1:3', 'tok_2:3', 'tok_3:3']);
    db.close();
  });
});
