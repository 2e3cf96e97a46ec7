import { chmodSync } from 'node:fs';
import Database from 'better-sqlite3';

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
];

/** Opens (and migrates) the daemon's SQLite database. */
export function openDatabase(file: string): Db {
  const db = new Database(file);
  // SQLite gives the -wal and -shm files the main file's mode, so set it first.
  chmodSync(file, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
