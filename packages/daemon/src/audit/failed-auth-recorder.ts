import type { AuditLog } from './audit-log.js';

/**
 * Records refused authentications in the audit log, at most `perMinute` a
 * minute: enough to see someone guessing, not enough for a flood of bad
 * requests to fill the disk. What was dropped is counted in the next record.
 */
export class FailedAuthRecorder {
  private windowStart = 0;
  private inWindow = 0;
  private dropped = 0;

  constructor(
    private readonly audit: AuditLog,
    private readonly perMinute = 60,
    private readonly now: () => number = Date.now,
  ) {}

  /** `expired` is the id of a token that authenticated but has passed its expiry. */
  record(request: { requestId: string | null; method: string; path: string; presented: boolean; expired?: string }): void {
    const t = this.now();
    if (t - this.windowStart >= 60_000) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perMinute) {
      this.dropped++;
      return;
    }
    this.inWindow++;
    const details: Record<string, unknown> = {
      method: request.method,
      path: request.path,
      token: request.expired ? 'expired' : request.presented ? 'invalid' : 'missing',
    };
    if (this.dropped) {
      details.notRecordedBefore = this.dropped;
      this.dropped = 0;
    }
    this.audit.append({
      requestId: request.requestId,
      // An expired token is still known: its record names it.
      principal: request.expired ?? 'anonymous',
      tenant: '-',
      action: 'auth.authenticate',
      resource: `http:${request.path}`,
      decision: 'deny',
      outcome: request.expired ? 'token_expired' : 'unauthorized',
      details,
    });
  }
}
