import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  ApprovalDeniedError,
  type ApprovalInfo,
  ApprovalRequiredError,
  type ApprovalState,
  BadRequestError,
  ConflictError,
  canonicalJson,
  NotFoundError,
  ownerKindOf,
  PolicyDeniedError,
  QuotaExceededError,
} from '@paddock/core';
import type { Principal } from '../auth/token-auth.js';
import type { SelfApproval } from '../config/daemon-settings.js';
import type { Db } from '../store/database.js';

/** Approvals one token may wait on at once. */
const maxPendingPerToken = 20;

interface ApprovalRow {
  id: string;
  tenant: string;
  principal: string;
  owner: string | null;
  action: string;
  resource: string;
  request_hash: string;
  context: string;
  reason: string;
  state: ApprovalState;
  created_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_by_owner: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  self_approved: number;
}

export interface SelfApprovalRule {
  /** off: never; single-human: while one person holds tokens on this install; on: always (people only). */
  mode: SelfApproval;
  /** The people that live tokens act for, the bootstrap admin's included. */
  humanOwners: () => Set<string>;
}

export interface AskedRequest {
  principal: Principal;
  action: string;
  resource: string;
  context: Record<string, unknown>;
  reason: string;
}

/**
 * Requests a policy asked a human about. Each approval is bound to the hash of
 * exactly one request (who, what action, on what, with what command, path …)
 * and is used at most once; an unanswered one expires into a denial.
 */
export class ApprovalService {
  private readonly events = new EventEmitter();

  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
    private readonly selfApproval: SelfApprovalRule = { mode: 'off', humanOwners: () => new Set() },
  ) {
    this.events.setMaxListeners(0);
  }

  static requestHash(r: Pick<AskedRequest, 'principal' | 'action' | 'resource' | 'context'>): string {
    return createHash('sha256')
      .update(canonicalJson({ principal: r.principal.id, action: r.action, resource: r.resource, context: r.context }))
      .digest('hex');
  }

  /**
   * Settles an asked request: with the id of an approved approval for this
   * very request it consumes it and returns its id; otherwise it files a
   * pending approval and, if the caller is willing to wait, waits for a
   * human. Throws approval_required or approval_denied when the request may
   * not go ahead.
   */
  async settle(asked: AskedRequest, presentedId: string | undefined, waitMs: number, signal?: AbortSignal): Promise<string> {
    const hash = ApprovalService.requestHash(asked);
    if (presentedId) {
      this.consume(presentedId, asked.principal, hash);
      return presentedId;
    }
    const approval = this.file(asked, hash);
    if (waitMs <= 0) throw this.required(approval);
    const decided = await this.waitForDecision(approval.id, waitMs, signal);
    if (decided.state === 'approved') {
      this.consume(decided.id, asked.principal, hash);
      return decided.id;
    }
    if (decided.state === 'pending') throw this.required(decided);
    const how = decided.state === 'cancelled' ? 'cancelled by the token that asked' : decided.state;
    throw new ApprovalDeniedError(`approval ${decided.id} was ${how}${decided.decisionReason ? `: ${decided.decisionReason}` : ''}`, {
      approvalId: decided.id,
      state: decided.state,
    });
  }

  list(caller: Principal, state?: ApprovalState | 'all'): ApprovalInfo[] {
    this.expireDue();
    const where: string[] = [];
    const params: Record<string, string> = {};
    if (caller.role !== 'admin') {
      where.push('tenant = @tenant');
      params.tenant = caller.tenant;
    }
    if (state && state !== 'all') {
      where.push('state = @state');
      params.state = state;
    }
    const rows = this.db
      .prepare(`SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT 500`)
      .all(params) as ApprovalRow[];
    return rows.map(toInfo);
  }

  get(caller: Principal, id: string): ApprovalInfo {
    this.expireDue();
    const row = this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as ApprovalRow | undefined;
    if (!row || (caller.role !== 'admin' && row.tenant !== caller.tenant)) throw new NotFoundError(`approval ${id} not found`, { id }, 'approval_not_found');
    return toInfo(row);
  }

  /**
   * A person's answer. Separation of duties is by owner: whoever a request's
   * token acts for cannot answer it through any token of theirs, except by
   * approving it with `self` where the daemon's self-approval rule allows.
   * Only a person approves; an agent may deny.
   */
  decide(caller: Principal, id: string, verdict: 'approved' | 'denied', reason: string, self = false): ApprovalInfo {
    const approval = this.get(caller, id);
    if (approval.state !== 'pending') throw new ConflictError(`approval ${id} is already ${approval.state}`, { id, state: approval.state }, 'approval_decided');
    const own = approval.owner === caller.owner;
    if (verdict === 'approved' && ownerKindOf(caller.owner) === 'agent') {
      throw new PolicyDeniedError(`only a person approves a request; this token acts for an agent (${caller.owner})`, { id, owner: caller.owner });
    }
    if (self) {
      if (verdict !== 'approved') throw new BadRequestError('self applies to approving only; withdraw your own request with cancel', { id });
      if (!own)
        throw new BadRequestError(
          `approval ${id} was asked for ${approval.owner}, not for you (${caller.owner}): approve it without self`,
          { id },
          'not_own_request',
        );
      this.checkSelfApproval(caller, id);
    } else if (own) {
      const hint = verdict === 'approved' ? 'on an install with one person, approve it with self (--self) and a reason' : 'withdraw it with cancel';
      throw new PolicyDeniedError(`a request is answered by someone other than whom it was asked for (${approval.owner}); ${hint}`, {
        id,
        owner: approval.owner,
      });
    }
    this.db
      // An approval given late still leaves its asker a full window to use it.
      .prepare(
        `UPDATE approvals SET state = ?, decided_by = ?, decided_by_owner = ?, self_approved = ?, decided_at = ?, decision_reason = ?, expires_at = ?
         WHERE id = ? AND state = 'pending'`,
      )
      .run(verdict, caller.id, caller.owner, self ? 1 : 0, new Date().toISOString(), reason, new Date(Date.now() + this.ttlMs).toISOString(), id);
    const decided = this.get(caller, id);
    this.events.emit('change', decided);
    return decided;
  }

  /** The token that asked withdraws its pending request; a request waiting on it ends at once. */
  cancel(caller: Principal, id: string, reason: string | undefined): ApprovalInfo {
    const approval = this.get(caller, id);
    if (approval.principal !== caller.id) throw new PolicyDeniedError(`only the token that asked cancels approval ${id}`, { id });
    if (approval.state !== 'pending') throw new ConflictError(`approval ${id} is already ${approval.state}`, { id, state: approval.state }, 'approval_decided');
    this.db
      .prepare(
        "UPDATE approvals SET state = 'cancelled', decided_by = ?, decided_by_owner = ?, decided_at = ?, decision_reason = ? WHERE id = ? AND state = 'pending'",
      )
      .run(caller.id, caller.owner, new Date().toISOString(), reason ?? null, id);
    const cancelled = this.get(caller, id);
    this.events.emit('change', cancelled);
    return cancelled;
  }

  private checkSelfApproval(caller: Principal, id: string): void {
    if (ownerKindOf(caller.owner) !== 'human') throw new PolicyDeniedError(`an agent (${caller.owner}) never approves its own request`, { id });
    const { mode } = this.selfApproval;
    if (mode === 'off') throw new PolicyDeniedError('self-approval is turned off on this daemon (--self-approval off): another person approves it', { id });
    if (mode === 'single-human') {
      const people = this.selfApproval.humanOwners();
      if (people.size > 1) {
        throw new PolicyDeniedError(`self-approval is for an install with one person; ${people.size} people hold tokens here: another of them approves it`, {
          id,
          people: people.size,
        });
      }
    }
  }

  /** Resolves when the approval leaves pending, or after waitMs with it still pending. */
  async waitForDecision(id: string, waitMs: number, signal?: AbortSignal): Promise<ApprovalInfo> {
    const current = () => toInfo(this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as ApprovalRow);
    this.expireDue();
    if (current().state !== 'pending') return current();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.events.off('change', onChange);
        signal?.removeEventListener('abort', done);
        this.expireDue();
        resolve(current());
      };
      const onChange = (a: ApprovalInfo) => a.id === id && done();
      const timer = setTimeout(done, Math.min(waitMs, Math.max(0, Date.parse(current().expiresAt) - Date.now()) + 5));
      this.events.on('change', onChange);
      signal?.addEventListener('abort', done);
    });
  }

  subscribe(listener: (a: ApprovalInfo) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  private file(asked: AskedRequest, hash: string): ApprovalInfo {
    // An agent that keeps asking must not bury the reviewers.
    const pending = (this.db.prepare("SELECT count(*) AS n FROM approvals WHERE principal = ? AND state = 'pending'").get(asked.principal.id) as { n: number })
      .n;
    if (pending >= maxPendingPerToken) {
      throw new QuotaExceededError(`this token already waits on ${pending} approvals; wait for them, or ask again later`, {
        quota: 'pendingApprovals',
        limit: maxPendingPerToken,
      });
    }
    const now = Date.now();
    const id = `ap_${randomBytes(6).toString('hex')}`;
    this.db
      .prepare(
        `INSERT INTO approvals (id, tenant, principal, owner, action, resource, request_hash, context, reason, state, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      .run(
        id,
        asked.principal.tenant,
        asked.principal.id,
        asked.principal.owner,
        asked.action,
        asked.resource,
        hash,
        JSON.stringify(asked.context),
        asked.reason,
        new Date(now).toISOString(),
        new Date(now + this.ttlMs).toISOString(),
      );
    const filed = toInfo(this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as ApprovalRow);
    this.events.emit('change', filed);
    return filed;
  }

  /** Uses an approval once, for the request it was given for and by whoever asked. */
  private consume(id: string, principal: Principal, hash: string): void {
    this.expireDue();
    const row = this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as ApprovalRow | undefined;
    if (!row || row.principal !== principal.id) throw new ApprovalDeniedError(`approval ${id} does not belong to this token`, { approvalId: id });
    if (row.request_hash !== hash) throw new ApprovalDeniedError(`approval ${id} was given for a different request`, { approvalId: id });
    const used = this.db.prepare("UPDATE approvals SET state = 'used', used_at = ? WHERE id = ? AND state = 'approved'").run(new Date().toISOString(), id);
    if (used.changes === 0) {
      throw new ApprovalDeniedError(`approval ${id} is ${row.state === 'approved' ? 'no longer usable' : row.state}`, { approvalId: id, state: row.state });
    }
    this.events.emit('change', toInfo({ ...row, state: 'used' }));
  }

  private expireDue(): void {
    const now = new Date().toISOString();
    const due = this.db.prepare("SELECT * FROM approvals WHERE state IN ('pending', 'approved') AND expires_at <= ?").all(now) as ApprovalRow[];
    if (due.length === 0) return;
    this.db.prepare("UPDATE approvals SET state = 'expired' WHERE state IN ('pending', 'approved') AND expires_at <= ?").run(now);
    for (const row of due) this.events.emit('change', toInfo({ ...row, state: 'expired' }));
  }

  private required(a: ApprovalInfo): ApprovalRequiredError {
    return new ApprovalRequiredError(`${a.reason} — approval ${a.id} is pending until ${a.expiresAt}`, {
      approvalId: a.id,
      expiresAt: a.expiresAt,
      reason: a.reason,
    });
  }
}

function toInfo(r: ApprovalRow): ApprovalInfo {
  return {
    id: r.id,
    tenant: r.tenant,
    principal: r.principal,
    // Approvals filed before owners existed were given one by the migration; none is nobody's.
    owner: r.owner ?? `agent:${r.principal}`,
    action: r.action,
    resource: r.resource,
    context: JSON.parse(r.context) as Record<string, unknown>,
    reason: r.reason,
    state: r.state,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    decidedBy: r.decided_by,
    decidedByOwner: r.decided_by_owner,
    selfApproved: r.self_approved === 1,
    decidedAt: r.decided_at,
    decisionReason: r.decision_reason,
  };
}
