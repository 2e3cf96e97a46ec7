import { z } from 'zod';

export const ApprovalStateSchema = z.enum(['pending', 'approved', 'denied', 'expired', 'used', 'cancelled']);
export type ApprovalState = z.infer<typeof ApprovalStateSchema>;

export const ApprovalSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  principal: z.string().describe('the token that asked'),
  owner: z.string().describe('who that token acts for'),
  action: z.string(),
  resource: z.string(),
  context: z.record(z.string(), z.unknown()).describe('what the request would do: command, path, risk …'),
  reason: z.string().describe('why the policy asks'),
  state: ApprovalStateSchema,
  createdAt: z.string(),
  expiresAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedByOwner: z.string().nullable().describe('who the deciding token acts for'),
  selfApproved: z.boolean().describe('approved by its own owner, through the explicit self-approval step'),
  decidedAt: z.string().nullable(),
  decisionReason: z.string().nullable(),
});
export type ApprovalInfo = z.infer<typeof ApprovalSchema>;

const DecisionReasonSchema = z.string().min(1).max(1000).describe('why; kept in the audit log');
export const ApprovalDecisionSchema = z.object({ reason: DecisionReasonSchema }).strict();
export const ApprovalApproveSchema = z
  .object({
    reason: DecisionReasonSchema,
    self: z
      .boolean()
      .optional()
      .describe(
        "approve a request of your own owner (an install with one human; audited as approval.self_approve; the daemon's --self-approval setting may refuse it)",
      ),
  })
  .strict();
export type ApprovalApprove = z.infer<typeof ApprovalApproveSchema>;
export const ApprovalCancelSchema = z.object({ reason: z.string().min(1).max(1000).optional().describe('why; kept in the audit log') }).strict();

export const ApprovalListQuerySchema = z.object({
  state: z.enum(['pending', 'approved', 'denied', 'expired', 'used', 'cancelled', 'all']).optional(),
  follow: z.enum(['true', 'false']).optional().describe('NDJSON stream: the matching approvals, then each new or changed one'),
});
