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
  before: z.coerce.number().int().min(1).optional().describe('only records with a smaller seq (the next page, newest first: the last seq of this one)'),
  since: z.string().optional().describe('ISO time, or a duration back from now: 30s, 15m, 1h, 7d'),
  until: z.string().optional().describe('ISO time, or a duration back from now: only records before it'),
  action: z.string().max(200).optional().describe('only this action (sandbox.exec), or those starting with what comes before a final * (sandbox.*)'),
  decision: z.enum(['allow', 'ask', 'deny']).optional(),
  outcome: z.string().max(200).optional().describe('only this outcome (ok, or an error code); "failed" for every outcome but ok'),
  principal: z.string().max(200).optional().describe('only records of this principal (a token id, "admin", "anonymous" …)'),
  sandbox: z.string().max(200).optional().describe('only records about this sandbox (resource sandbox:<id>)'),
  q: z.string().max(200).optional().describe('text anywhere in the principal, action, resource, outcome or details (case-insensitive)'),
  order: z.enum(['asc', 'desc']).optional().describe('asc (default): oldest first; desc: newest first'),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  follow: z.enum(['true', 'false']).optional().describe('NDJSON stream that stays open and sends new records as they land'),
});

export const AuditProblemSchema = z.object({
  seq: z.number().int().nullable(),
  problem: z.enum([
    'edited',
    'missing',
    'reordered',
    'truncated',
    'bad_signature',
    'anchor_log_missing',
    'anchor_log_truncated',
    'anchor_chain_broken',
    'anchor_unreadable',
  ]),
  message: z.string(),
});

/** One anchor: a signed head written outside the database, chained to the anchor before it. */
export const AuditAnchorSchema = z.object({
  anchor: z.number().int().min(1).describe('1 for the first anchor, each next one +1'),
  seq: z.number().int().describe('the last audit record it covers'),
  hash: z.string().describe('that record’s hash'),
  signedAt: z.string(),
  prev: z.string().describe('SHA-256 (hex) of the anchor before it; 64 zeros for the first'),
  key: z.string().describe('fingerprint of the signing key: SHA-256 (hex, first 16) of its raw public key'),
  signature: z.string().describe('Ed25519 (base64) by the daemon’s audit key'),
});
export type AuditAnchor = z.infer<typeof AuditAnchorSchema>;

export const AuditAnchorCheckSchema = z.object({
  source: z.enum(['anchor-log', 'supplied']).describe('the daemon’s own anchor log, or anchors the caller sent (e.g. a copy shipped off the box)'),
  location: z.string().describe('the anchor log’s path, or "request" for supplied anchors'),
  checked: z.number().int().describe('anchors read and checked'),
  newest: z
    .object({ anchor: z.number().int(), seq: z.number().int(), hash: z.string(), signedAt: z.string() })
    .nullable()
    .describe('the newest anchor with a good signature'),
  reached: z.boolean().describe('whether the database holds the record the newest anchor covers, with the same hash'),
});
export type AuditAnchorCheck = z.infer<typeof AuditAnchorCheckSchema>;

export const AuditVerificationSchema = z.object({
  ok: z.boolean(),
  records: z.number().int().describe('records checked'),
  heads: z.number().int().describe('signed heads (in the database) checked'),
  head: z.object({ seq: z.number().int(), hash: z.string(), signedAt: z.string() }).nullable().describe('the latest signed head the chain was checked against'),
  anchors: z.array(AuditAnchorCheckSchema).describe('each anchor source checked against the chain'),
  problems: z.array(AuditProblemSchema),
});
export type AuditVerification = z.infer<typeof AuditVerificationSchema>;

export const AuditVerifyRequestSchema = z.object({
  anchors: z
    .string()
    .max(1024 * 1024)
    .optional()
    .describe('anchor lines (JSON lines, as in the anchor log) to check too, e.g. the end of a copy shipped off the box; the newest counts'),
});
