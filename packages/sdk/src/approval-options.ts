import { approvalHeaders } from '@paddock/core/client';

/** For a request a policy may ask a human about. */
export interface ApprovalOptions {
  /**
   * When a policy asks a human about the request, wait this many seconds (at
   * most 600) for the answer instead of failing at once with
   * ApprovalRequiredError: approved, it goes ahead; denied, it fails with
   * ApprovalDeniedError.
   */
  approvalWaitSeconds?: number;
  /** An approved approval for this very request (from ApprovalRequiredError's `details.approvalId`); used once. */
  approvalId?: string;
}

export function approvalRequestHeaders(o: ApprovalOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (o.approvalId) headers[approvalHeaders.id] = o.approvalId;
  if (o.approvalWaitSeconds) headers[approvalHeaders.wait] = String(o.approvalWaitSeconds);
  return headers;
}

export function approvalWaitMs(o: ApprovalOptions): number {
  return (o.approvalWaitSeconds ?? 0) * 1000;
}
