import { z } from 'zod';

export const AuditRecordSchema = z.object({
  seq: z.number().int(),
  ts: z.string(),
  requestId: z.string().nullable(),
  principal: z.string().describe('token id, or "admin" for the bootstrap token'),
  tenant: z.string(),
  action: z.string(),
  resource: z.string(),
  decision: z.enum(['allow', 'deny', 'ask']),
  outcome: z.string().describe('ok, or the error code the action ended with'),
  durationMs: z.number().nullable(),
  details: z.record(z.string(), z.unknown()),
  prevHash: z.string().describe('SHA-256 (hex) of the previous record'),
  hash: z.string().describe('SHA-256 (hex) of this record’s canonical JSON, prevHash included'),
});
export type AuditEntry = z.infer<typeof AuditRecordSchema>;

export const AuditQuerySchema = z.object({
  after: z.coerce.number().int().min(0).optional().describe('only records with a larger seq'),
  since: z.string().optional().describe('ISO time, or a duration back from now: 30s, 15m, 1h, 7d'),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  follow: z.enum(['true', 'false']).optional().describe('NDJSON stream that stays open and sends new records as they land'),
});

export const AuditProblemSchema = z.object({
  seq: z.number().int().nullable(),
  problem: z.enum(['edited', 'missing', 'reordered', 'truncated', 'bad_signature']),
  message: z.string(),
});

export const AuditVerificationSchema = z.object({
  ok: z.boolean(),
  records: z.number().int().describe('records checked'),
  head: z.object({ seq: z.number().int(), hash: z.string(), signedAt: z.string() }).nullable().describe('the latest signed head the chain was checked against'),
  problems: z.array(AuditProblemSchema),
});
export type AuditVerification = z.infer<typeof AuditVerificationSchema>;
