import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';

/** Connections into one sandbox audited in full per minute; beyond, they are counted into the next record. */
const auditedPerMinute = 120;

/** How a connection into a sandbox was opened: a socket made in its network namespace, or by its agent. */
export type IngressRoute = 'namespace' | 'agent';

export interface IngressRecord {
  sandbox: string;
  tenant: string;
  /** The token that opened it, or `link:<id>` for a public link. */
  principal: string;
  decision: 'allow' | 'deny';
  /** ok, or the error code it was refused or failed with. */
  outcome: string;
  details: {
    port: number;
    client: string;
    via: 'token' | 'link' | 'forward';
    form?: 'host' | 'path';
    route?: IngressRoute;
    bytesIn?: number;
    bytesOut?: number;
    reason?: string;
  };
  durationMs?: number;
}

/**
 * Every connection ingress opens into a sandbox (or refuses), as
 * `sandbox.port.open` records of the audit log, written when it closes with
 * its bytes. A client opening connections in a loop must not flood the log:
 * past `auditedPerMinute` a sandbox's records are counted, and the count is
 * written into the next record that is audited.
 */
export class IngressRecords {
  private readonly windows = new Map<string, { start: number; audited: number; skipped: number }>();

  constructor(
    private readonly audit: Pick<AuditLog, 'append'>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  record(r: IngressRecord): void {
    const skippedBefore = this.count(r.sandbox);
    if (skippedBefore === undefined) return;
    try {
      this.audit.append({
        requestId: null,
        principal: r.principal,
        tenant: r.tenant,
        action: 'sandbox.port.open',
        resource: `sandbox:${r.sandbox}`,
        decision: r.decision,
        outcome: r.outcome,
        details: { ...r.details, ...(skippedBefore ? { connectionsNotAuditedBefore: skippedBefore } : {}) },
        durationMs: r.durationMs,
      });
    } catch (err) {
      // Connections cut by a stopping daemon close after its database did.
      this.logger.error({ err, sandbox: r.sandbox }, 'an ingress connection could not be audited');
    }
  }

  /** undefined: leave this one out; otherwise how many were left out before it. */
  private count(sandbox: string): number | undefined {
    const now = this.now();
    let w = this.windows.get(sandbox);
    if (!w || now - w.start >= 60_000) {
      w = { start: now, audited: 0, skipped: w?.skipped ?? 0 };
      this.windows.set(sandbox, w);
    }
    if (w.audited >= auditedPerMinute) {
      if (w.skipped === 0) this.logger.warn({ sandbox }, `ingress connections beyond ${auditedPerMinute} a minute are counted, not each audited`);
      w.skipped += 1;
      return undefined;
    }
    w.audited += 1;
    const skipped = w.skipped;
    w.skipped = 0;
    return skipped;
  }

  sandboxEnded(sandbox: string): void {
    this.windows.delete(sandbox);
  }
}
