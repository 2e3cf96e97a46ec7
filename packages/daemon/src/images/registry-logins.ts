import { NotFoundError, PolicyDeniedError, type RegistryLoginInfo } from '@paddock/core';
import type { SecretCipher } from '../secrets/secret-cipher.js';
import type { Db } from '../store/database.js';
import type { RegistryLogin } from './skopeo.js';

interface Row {
  owner: string;
  host: string;
  username: string;
  sealed: Buffer;
  created_at: string;
}

/** Who a login belongs to: a tenant, or every tenant (an admin's shared login). */
export interface LoginOwner {
  tenant: string;
  admin: boolean;
  shared?: boolean;
}

const sharedOwner = '*';

/**
 * Logins to image registries, sealed at rest with the secrets' key. Passwords
 * come out only for skopeo, in the private folder of one pull: never in an
 * API answer, the audit log or a sandbox.
 */
export class RegistryLogins {
  constructor(
    private readonly db: Db,
    private readonly cipher: SecretCipher,
  ) {}

  set(who: LoginOwner, host: string, login: RegistryLogin): RegistryLoginInfo {
    const owner = ownerOf(who);
    const createdAt = new Date().toISOString();
    const sealed = this.cipher.seal(login.password, associated(owner, host, login.username));
    this.db
      .prepare(
        `INSERT INTO registry_logins (owner, host, username, sealed, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (owner, host) DO UPDATE SET username = excluded.username, sealed = excluded.sealed, created_at = excluded.created_at`,
      )
      .run(owner, host, login.username, sealed, createdAt);
    return { host, username: login.username, shared: owner === sharedOwner, createdAt };
  }

  /** A tenant's own logins and the shared ones. */
  list(tenant: string): RegistryLoginInfo[] {
    const rows = this.db.prepare('SELECT * FROM registry_logins WHERE owner IN (?, ?) ORDER BY host, owner').all(tenant, sharedOwner) as Row[];
    return rows.map((r) => ({ host: r.host, username: r.username, shared: r.owner === sharedOwner, createdAt: r.created_at }));
  }

  remove(who: LoginOwner, host: string): void {
    const { changes } = this.db.prepare('DELETE FROM registry_logins WHERE owner = ? AND host = ?').run(ownerOf(who), host);
    if (!changes) throw new NotFoundError(`no ${who.shared ? 'shared ' : ''}login for registry ${host}`, { host }, 'registry_login_not_found');
  }

  /** The login a tenant's pull from this host presents: its own, else the shared one. */
  loginFor(tenant: string, host: string): RegistryLogin | undefined {
    for (const owner of [tenant, sharedOwner]) {
      const row = this.db.prepare('SELECT * FROM registry_logins WHERE owner = ? AND host = ?').get(owner, host) as Row | undefined;
      if (row) return { username: row.username, password: this.cipher.open(row.sealed, associated(owner, host, row.username)) };
    }
    return undefined;
  }
}

function ownerOf(who: LoginOwner): string {
  if (!who.shared) return who.tenant;
  if (!who.admin) throw new PolicyDeniedError('only an admin sets or removes a shared registry login', {});
  return sharedOwner;
}

// The sealed password opens only on its own row: owner, host and user name.
const associated = (owner: string, host: string, username: string) => `registry\0${owner}\0${host}\0${username}`;
