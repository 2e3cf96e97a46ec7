import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConflictError, type NetworkMode, type NetworkUpdate, NetworkUpdateSchema, type SandboxNetworkInfo, type SandboxNetworkInput } from '@paddock/core';
import { tenantOfOwner } from '../sandboxes/sandbox-owners.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { Db } from '../store/database.js';
import type { ConnectionLog } from './connection-log.js';
import { HostRules } from './host-rules.js';
import { type CaMaterial, createSandboxCa, LeafCertificates } from './sandbox-ca.js';

export interface SecretPlaceholder {
  name: string;
  placeholder: string;
}

/** What the egress proxy knows of one sandbox. */
export interface SandboxNetwork {
  id: string;
  /** The tenant whose secrets it uses and whose audit log records its connections. */
  tenant: string;
  mode: NetworkMode;
  allow: string[];
  deny: string[];
  rules: HostRules;
  secrets: SecretPlaceholder[];
  /** Certificates for the hosts whose HTTPS the proxy opens (only a sandbox with secrets has a CA). */
  leaves?: LeafCertificates;
}

interface Row {
  sandbox_id: string;
  mode: NetworkMode;
  allow: string;
  deny: string;
  secrets: string;
}

export interface NetworkServiceDeps {
  db: Db;
  secrets: SecretStore;
  connections: ConnectionLog;
  /** Where a sandbox's CA (certificate and key) is kept on the host, outside the sandbox's reach. */
  caFile: (sandboxId: string) => string;
  /** The owner of a live sandbox, for states loaded after a restart. */
  ownerOf: (sandboxId: string) => string | undefined;
}

/** Each sandbox's egress rules and secret placeholders: kept in SQLite, read by the proxy on every connection. */
export class NetworkService {
  private readonly states = new Map<string, SandboxNetwork>();

  constructor(private readonly deps: NetworkServiceDeps) {}

  /**
   * Records a new sandbox's network before it starts; checks its secrets
   * exist. Returns the environment its commands get (the placeholders).
   */
  register(id: string, owner: string, network: SandboxNetworkInput = {}, secretNames: string[] = []): { mode: NetworkMode; env: Record<string, string> } {
    const mode = network.mode ?? 'proxy';
    const names = [...new Set(secretNames)];
    if (mode === 'none' && names.length) throw new ConflictError('a sandbox without network cannot use secrets', { secrets: names }, 'network_disabled');
    const tenant = tenantOfOwner(owner);
    for (const name of names) this.requireSecret(tenant, name);
    const secrets = names.map((name) => ({ name, placeholder: `paddock-placeholder-${randomBytes(16).toString('hex')}` }));
    const allow = unique(network.allow ?? []);
    const deny = unique(network.deny ?? []);
    this.deps.db
      .prepare('INSERT OR REPLACE INTO sandbox_networks (sandbox_id, mode, allow, deny, secrets) VALUES (?, ?, ?, ?, ?)')
      .run(id, mode, JSON.stringify(allow), JSON.stringify(deny), JSON.stringify(secrets));
    this.states.set(id, { id, tenant, mode, allow, deny, rules: new HostRules(allow, deny), secrets });
    return { mode, env: Object.fromEntries(secrets.map((s) => [s.name, s.placeholder])) };
  }

  /** Throws secret_not_found unless the tenant has this secret. */
  requireSecret(tenant: string, name: string): void {
    this.deps.secrets.info(tenant, name);
  }

  /** A pooled sandbox taken by a create: its rules become the request's. */
  takeOver(id: string, owner: string, network: SandboxNetworkInput = {}): void {
    this.register(id, owner, { ...network, mode: 'proxy' });
  }

  /** Makes the sandbox's CA (when it has secrets) before it starts: the sandbox must trust it from its first process. */
  async prepareTrust(id: string): Promise<CaMaterial | undefined> {
    const state = this.get(id);
    if (!state?.secrets.length) return undefined;
    const ca = await createSandboxCa(id);
    const file = this.deps.caFile(id);
    await mkdir(dirname(file), { recursive: true, mode: 0o711 });
    await writeFile(file, JSON.stringify(ca), { mode: 0o600 });
    state.leaves = new LeafCertificates(ca);
    return ca;
  }

  get(id: string): SandboxNetwork | undefined {
    return this.states.get(id) ?? this.load(id);
  }

  update(id: string, input: NetworkUpdate): SandboxNetwork {
    const update = NetworkUpdateSchema.parse(input);
    const state = this.get(id);
    if (!state) throw new ConflictError(`sandbox ${id} has no network state`, { id }, 'network_disabled');
    if (state.mode === 'none') throw new ConflictError(`sandbox ${id} was made without network (mode none)`, { id }, 'network_disabled');
    const adding = new Set(update.allow ?? []);
    const removing = new Set(update.deny ?? []);
    const allow = unique([...state.allow.filter((r) => !removing.has(r)), ...adding]);
    const deny = unique([...state.deny.filter((r) => !adding.has(r)), ...removing]);
    this.deps.db.prepare('UPDATE sandbox_networks SET allow = ?, deny = ? WHERE sandbox_id = ?').run(JSON.stringify(allow), JSON.stringify(deny), id);
    const next = { ...state, allow, deny, rules: new HostRules(allow, deny) };
    this.states.set(id, next);
    return next;
  }

  view(id: string): SandboxNetworkInfo {
    const state = this.get(id);
    return {
      mode: state?.mode ?? 'none',
      allow: state?.allow ?? [],
      deny: state?.deny ?? [],
      secrets: state?.secrets.map((s) => s.name) ?? [],
      connections: this.deps.connections.recentOf(id),
    };
  }

  forget(id: string): void {
    this.states.delete(id);
    this.deps.connections.forget(id);
    this.deps.db.prepare('DELETE FROM sandbox_networks WHERE sandbox_id = ?').run(id);
  }

  /** After a restart: the rules from the database, the CA from the sandbox's folder. */
  private load(id: string): SandboxNetwork | undefined {
    const row = this.deps.db.prepare('SELECT * FROM sandbox_networks WHERE sandbox_id = ?').get(id) as Row | undefined;
    const owner = this.deps.ownerOf(id);
    if (!row || !owner) return undefined;
    const allow = JSON.parse(row.allow) as string[];
    const deny = JSON.parse(row.deny) as string[];
    const state: SandboxNetwork = {
      id,
      tenant: tenantOfOwner(owner),
      mode: row.mode,
      allow,
      deny,
      rules: new HostRules(allow, deny),
      secrets: JSON.parse(row.secrets),
    };
    if (state.secrets.length) {
      const ca = readFile(this.deps.caFile(id), 'utf8').then((text) => JSON.parse(text) as CaMaterial);
      state.leaves = new LeafCertificates(ca);
    }
    this.states.set(id, state);
    return state;
  }
}

function unique(rules: string[]): string[] {
  return [...new Set(rules)];
}
