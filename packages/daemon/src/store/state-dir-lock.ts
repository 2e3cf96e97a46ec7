import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError } from '@paddock/core';
import Database from 'better-sqlite3';

export interface StateDirLock {
  release(): void;
}

/** Another daemon holds the state folder: this one must not adopt, reconcile or kill its sandboxes. */
export class StateDirLockedError extends ConflictError {
  constructor(stateDir: string, holderPid: number | undefined) {
    super(
      `${stateDir} is in use by another paddockd (${holderPid ? `pid ${holderPid}` : 'pid unknown'}); stop it first or give --state-dir another folder`,
      { stateDir, holderPid: holderPid ?? null },
      'state_dir_locked',
    );
  }
}

/**
 * Takes the state folder for this process alone. Node has no flock(2); SQLite's
 * exclusive transaction is the same kind of kernel lock (fcntl) on a file in
 * the folder, held as long as the transaction is open and dropped by the
 * kernel however the process ends (kill -9 too), so no stale lock is ever left
 * to clear. The holder's pid is written beside it for the refusal's message.
 */
export function lockStateDir(stateDir: string): StateDirLock {
  const lockFile = join(stateDir, 'paddockd.lock');
  const pidFile = join(stateDir, 'paddockd.pid');
  const db = new Database(lockFile, { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new StateDirLockedError(stateDir, holderPid(pidFile));
    throw err;
  }
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o644 });
  return {
    release() {
      if (!db.open) return;
      rmSync(pidFile, { force: true });
      db.close();
    },
  };
}

function holderPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
