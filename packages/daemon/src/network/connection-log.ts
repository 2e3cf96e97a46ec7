import type { ConnectionInfo } from '@paddock/core';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';

const keptPerSandbox = 200;

export interface ConnectionEntry extends ConnectionInfo {
  sandbox: string;
  owner: string;
}

/**
 * Every decision of the egress proxy: the sandbox's recent ones in memory
 * (for `paddock net show`), all of them in the audit log. A refusal is
 * recorded at once; an allowed connection when it closes, with its bytes.
 */
export class ConnectionLog {
  private readonly recent = new Map<string, ConnectionInfo[]>();
  /** Sandboxes gone: their last connections close after them and are audited, not kept. */
  private readonly gone = new Set<string>();

  constructor(
    private readonly audit: AuditLog,
    private readonly logger: Logger,
  ) {}

  record(entry: ConnectionEntry): void {
    const { sandbox, owner, ...info } = entry;
    if (!this.gone.has(sandbox)) this.keep(sandbox, info);
    try {
      this.appendToAudit(sandbox, owner, info);
    } catch (err) {
      // Connections cut by a stopping daemon close after its database did: say so rather than crash.
      this.logger.error({ err, sandbox, host: info.host }, 'a connection record could not be audited');
    }
  }

  private appendToAudit(sandbox: string, owner: string, info: ConnectionInfo): void {
    this.audit.append({
      requestId: null,
      principal: `sandbox:${sandbox}`,
      tenant: owner,
      action: 'network.connect',
      resource: `sandbox:${sandbox}`,
      decision: info.decision,
      outcome: info.decision === 'allow' ? 'ok' : 'network_denied',
      details: {
        via: info.via,
        host: info.host,
        port: info.port,
        address: info.address,
        intercepted: info.intercepted,
        bytesOut: info.bytesOut,
        bytesIn: info.bytesIn,
        ...(info.reason ? { reason: info.reason } : {}),
      },
      durationMs: info.durationMs ?? undefined,
    });
  }

  private keep(sandbox: string, info: ConnectionInfo): void {
    let list = this.recent.get(sandbox);
    if (!list) {
      list = [];
      this.recent.set(sandbox, list);
    }
    list.push(info);
    if (list.length > keptPerSandbox) list.splice(0, list.length - keptPerSandbox);
  }

  recentOf(sandbox: string): ConnectionInfo[] {
    return [...(this.recent.get(sandbox) ?? [])];
  }

  forget(sandbox: string): void {
    this.recent.delete(sandbox);
    this.gone.add(sandbox);
    if (this.gone.size > 10_000) this.gone.delete(this.gone.values().next().value as string);
  }
}
