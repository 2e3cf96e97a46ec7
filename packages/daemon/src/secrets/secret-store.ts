import { NotFoundError, type SecretInfo } from '@paddock/core';
import type { Db } from '../store/database.js';
import type { SecretCipher } from './secret-cipher.js';

interface Row {
  owner: string;
  name: string;
  hosts: string;
  sealed: Buffer;
  created_at: string;
  updated_at: string;
}

export class SecretNotFoundError extends NotFoundError {
  constructor(name: string) {
    super(`no secret named ${name}`, { name }, 'secret_not_found');
  }
}

/** A tenant's secrets, sealed at rest; values come out only for the egress proxy. */
export class SecretStore {
  constructor(
    private readonly db: Db,
    private readonly cipher: SecretCipher,
  ) {}

  set(owner: string, name: string, value: string, hosts: string[]): SecretInfo {
    const now = new Date().toISOString();
    const sealed = this.cipher.seal(value, `${owner}\0${name}`);
    this.db
      .prepare(
        `INSERT INTO secrets (owner, name, hosts, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (owner, name) DO UPDATE SET hosts = excluded.hosts, sealed = excluded.sealed, updated_at = excluded.updated_at`,
      )
      .run(owner, name, JSON.stringify(hosts), sealed, now, now);
    return this.info(owner, name);
  }

  info(owner: string, name: string): SecretInfo {
    const row = this.row(owner, name);
    if (!row) throw new SecretNotFoundError(name);
    return toInfo(row);
  }

  list(owner: string): SecretInfo[] {
    return (this.db.prepare('SELECT * FROM secrets WHERE owner = ? ORDER BY name').all(owner) as Row[]).map(toInfo);
  }

  remove(owner: string, name: string): void {
    const { changes } = this.db.prepare('DELETE FROM secrets WHERE owner = ? AND name = ?').run(owner, name);
    if (!changes) throw new SecretNotFoundError(name);
  }

  /** The hosts a secret may be sent to, or undefined once removed. */
  hostsOf(owner: string, name: string): string[] | undefined {
    const row = this.row(owner, name);
    return row && (JSON.parse(row.hosts) as string[]);
  }

  /** The value and its hosts, or undefined once removed. */
  reveal(owner: string, name: string): { value: string; hosts: string[] } | undefined {
    const row = this.row(owner, name);
    if (!row) return undefined;
    return { value: this.cipher.open(row.sealed, `${owner}\0${name}`), hosts: JSON.parse(row.hosts) as string[] };
  }

  private row(owner: string, name: string): Row | undefined {
    return this.db.prepare('SELECT * FROM secrets WHERE owner = ? AND name = ?').get(owner, name) as Row | undefined;
  }
}

function toInfo(row: Row): SecretInfo {
  return { name: row.name, hosts: JSON.parse(row.hosts) as string[], createdAt: row.created_at, updatedAt: row.updated_at };
}
