import type { ConnectionInfo } from '@paddock/core';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';

const keptPerSandbox = 200;
/** Refusals audited in full per sandbox and minute; beyond, they are counted into the next record. */
const auditedRefusalsPerMinute = 60;

export interface ConnectionEntry extends ConnectionInfo {
  sandbox: string;
  owner: string;
}

/** A sandbox's traffic through the egress proxy so far, counted on the host's side (the sandbox cannot touch it). */
export interface EgressTotals {
  rxBytes: number;
  txBytes: number;
  allowed: number;
  refused: number;
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
  /** Per sandbox: the current minute's refusals, and those left out of the audit log since the last record. */
  private readonly refusals = new Map<string, { windowStart: number; audited: number; suppressed: number }>();

  private readonly totals = new Map<string, EgressTotals>();

  constructor(
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    /** Hears every decision, refusals left out of the audit log included (the daemon's statistics count them). */
    private readonly onRecord: (entry: ConnectionEntry) => void = () => {},
  ) {}

  record(entry: ConnectionEntry): void {
    const { sandbox, owner, ...info } = entry;
    if (!this.gone.has(sandbox)) {
      this.keep(sandbox, info);
      this.count(sandbox, info);
    }
    this.onRecord(entry);
    // A sandbox asking for refused names in a loop must not flood the audit log.
    const suppressed = this.countRefusal(sandbox, info.decision === 'deny');
    if (suppressed === undefined) return;
    try {
      this.appendToAudit(sandbox, owner, info, suppressed);
    } catch (err) {
      // Connections cut by a stopping daemon close after its database did: say so rather than crash.
      this.logger.error({ err, sandbox, host: info.host }, 'a connection record could not be audited');
    }
  }

  /** undefined: leave this refusal out of the audit log; otherwise how many were left out before it. */
  private countRefusal(sandbox: string, refused: boolean): number | undefined {
    const now = Date.now();
    let window = this.refusals.get(sandbox);
    if (!window || now - window.windowStart >= 60_000) {
      window = { windowStart: now, audited: 0, suppressed: window?.suppressed ?? 0 };
      this.refusals.set(sandbox, window);
    }
    if (refused && window.audited >= auditedRefusalsPerMinute) {
      if (window.suppressed === 0) this.logger.warn({ sandbox }, 'refused connections beyond 60 a minute are counted, not each audited');
      window.suppressed += 1;
      return undefined;
    }
    if (refused) window.audited += 1;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    return suppressed;
  }

  private appendToAudit(sandbox: string, owner: string, info: ConnectionInfo, suppressedBefore: number): void {
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
        ...(suppressedBefore ? { refusalsNotAuditedBefore: suppressedBefore } : {}),
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

  private count(sandbox: string, info: ConnectionInfo): void {
    let totals = this.totals.get(sandbox);
    if (!totals) {
      totals = { rxBytes: 0, txBytes: 0, allowed: 0, refused: 0 };
      this.totals.set(sandbox, totals);
    }
    if (info.decision === 'deny') totals.refused += 1;
    else totals.allowed += 1;
    totals.rxBytes += info.bytesIn ?? 0;
    totals.txBytes += info.bytesOut ?? 0;
  }

  /** The sandbox's egress so far (zeros before its first connection). */
  totalsOf(sandbox: string): EgressTotals {
    return this.totals.get(sandbox) ?? { rxBytes: 0, txBytes: 0, allowed: 0, refused: 0 };
  }

  recentOf(sandbox: string): ConnectionInfo[] {
    return [...(this.recent.get(sandbox) ?? [])];
  }

  forget(sandbox: string): void {
    this.recent.delete(sandbox);
    this.refusals.delete(sandbox);
    this.totals.delete(sandbox);
    this.gone.add(sandbox);
    if (this.gone.size > 10_000) this.gone.delete(this.gone.values().next().value as string);
  }
}
