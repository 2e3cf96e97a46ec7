import type { ApprovalInfo, ApprovalState } from '@paddock/core';
import { ApiClient, type ConnectionOptions, type RequestOptions } from './api-client.js';
import { apiCall } from './api-routes.js';

type CallOptions = ConnectionOptions & RequestOptions;

export interface ApprovalListOptions extends CallOptions {
  /** Default: pending. */
  state?: ApprovalState | 'all';
}

export interface ApprovalGetOptions extends CallOptions {
  /** Seconds to wait for a decision (at most 600); the approval comes back as it is then. */
  wait?: number;
}

// A waiting request must outlive the wait it asked for.
const waitSlackMs = 30_000;

/**
 * Requests a policy asked a human about. Agents meet them as an
 * ApprovalRequiredError (`details.approvalId`) and may cancel theirs; an
 * operator of the tenant approves or denies, never one acting for whom it
 * was asked for (unless approving with `self` where the daemon allows it).
 *
 *   for await (const a of Approvals.follow({ signal })) if (a.state === 'pending') console.log(a.id, a.reason)
 *   await Approvals.approve(id, 'checked the installer')
 */
export const Approvals = {
  /** Newest first (operator tokens and up). */
  async list(options: ApprovalListOptions = {}): Promise<ApprovalInfo[]> {
    const spec = { query: { state: options.state }, timeoutMs: options.timeoutMs, signal: options.signal };
    return (await new ApiClient(options).json<{ approvals: ApprovalInfo[] }>(apiCall('GET /v1/approvals'), spec)).approvals;
  },

  /** One approval; agents may read those of their own tenant, e.g. to wait for theirs. */
  async get(id: string, options: ApprovalGetOptions = {}): Promise<ApprovalInfo> {
    const timeoutMs = options.timeoutMs ?? (options.wait ? options.wait * 1000 + waitSlackMs : undefined);
    const spec = { query: { wait: options.wait }, timeoutMs, signal: options.signal };
    return new ApiClient(options).json<ApprovalInfo>(apiCall('GET /v1/approvals/{id}', { id }), spec);
  },

  /**
   * Lets the request run once; a ConflictError (approval_decided) if it is no
   * longer pending. Someone other than whom it was asked for approves it;
   * `self: true` approves a request of your own owner, where the daemon allows
   * self-approval (an install with one person), audited as approval.self_approve.
   */
  async approve(id: string, reason: string, options: CallOptions & { self?: boolean } = {}): Promise<ApprovalInfo> {
    const { self, ...call } = options;
    return decide(id, 'approve', self ? { reason, self } : { reason }, call);
  },

  async deny(id: string, reason: string, options: CallOptions = {}): Promise<ApprovalInfo> {
    return decide(id, 'deny', { reason }, options);
  },

  /** Withdraws a pending request of this token's; a request waiting on it ends with an ApprovalDeniedError. */
  async cancel(id: string, options: CallOptions & { reason?: string } = {}): Promise<ApprovalInfo> {
    const { reason, ...call } = options;
    return decide(id, 'cancel', reason ? { reason } : {}, call);
  },

  /**
   * The matching approvals, then each new or changed one, until `signal`
   * aborts, which ends the iteration (no error). Without
   * `state`: the pending ones, then every change. No timeout unless
   * `timeoutMs` is given: the stream is meant to stay open.
   */
  follow(options: ApprovalListOptions = {}): AsyncGenerator<ApprovalInfo> {
    const query = { state: options.state, follow: true };
    return new ApiClient(options).ndjson<ApprovalInfo>(apiCall('GET /v1/approvals'), {
      query,
      timeoutMs: options.timeoutMs ?? 0,
      signal: options.signal,
      endOnAbort: true,
    });
  },
};

const decisionRoutes = {
  approve: 'POST /v1/approvals/{id}/approve',
  deny: 'POST /v1/approvals/{id}/deny',
  cancel: 'POST /v1/approvals/{id}/cancel',
} as const;

async function decide(id: string, verb: 'approve' | 'deny' | 'cancel', body: Record<string, unknown>, options: CallOptions): Promise<ApprovalInfo> {
  const spec = { json: body, timeoutMs: options.timeoutMs, signal: options.signal };
  return new ApiClient(options).json<ApprovalInfo>(apiCall(decisionRoutes[verb], { id }), spec);
}
