import { z } from 'zod';

export const ApprovalStateSchema = z.enum(['pending', 'approved', 'denied', 'expired', 'used']);
export type ApprovalState = z.infer<typeof ApprovalStateSchema>;

export const ApprovalSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  principal: z.string().describe('the token that asked'),
  action: z.string(),
  resource: z.string(),
  context: z.record(z.string(), z.unknown()).describe('what the request would do: command, path, risk …'),
  reason: z.string().describe('why the policy asks'),
  state: ApprovalStateSchema,
  createdAt: z.string(),
  expiresAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisionReason: z.string().nullable(),
});
export type ApprovalInfo = z.infer<typeof ApprovalSchema>;

export const ApprovalDecisionSchema = z.object({ reason: z.string().min(1).max(1000).describe('why; kept in the audit log') }).strict();

export const ApprovalListQuerySchema = z.object({
  state: z.enum(['pending', 'approved', 'denied', 'expired', 'used', 'all']).optional(),
  follow: z.enum(['true', 'false']).optional().describe('NDJSON stream: the matching approvals, then each new or changed one'),
});
