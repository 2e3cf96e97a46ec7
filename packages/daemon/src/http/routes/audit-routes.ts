import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  type AuditEntry,
  AuditQuerySchema,
  AuditRecordSchema,
  AuditVerificationSchema,
  AuditVerifyRequestSchema,
  BadRequestError,
  parseDurationMs,
} from '@paddock/core';
import { type AuditQuery, auditMatches } from '../../audit/audit-log.js';
import type { HttpEnv } from '../http-env.js';
import { ndjsonHeaders, ndjsonStream } from '../ndjson.js';
import { errorResponses, json } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['audit'];
const AuditRecordResponse = AuditRecordSchema.meta({ id: 'AuditRecord' });

const listAudit = createRoute({
  method: 'get',
  path: '/v1/audit',
  tags,
  summary: 'Audit records in order; with follow=true an NDJSON stream that stays open',
  description: 'An admin reads every tenant’s records; an operator its own tenant’s.',
  request: { query: AuditQuerySchema },
  responses: {
    200: {
      content: {
        'application/json': { schema: z.object({ records: z.array(AuditRecordResponse) }) },
        'application/x-ndjson': { schema: AuditRecordResponse },
      },
      description: 'records',
    },
    ...errorResponses,
  },
});

const verifyAudit = createRoute({
  method: 'get',
  path: '/v1/audit/verify',
  tags,
  summary: 'Check the whole hash chain, every signed head and the anchor log outside the database (admin)',
  responses: { 200: json(AuditVerificationSchema, 'the verdict, with what was checked and each problem found'), ...errorResponses },
});

const verifyAuditWithAnchors = createRoute({
  method: 'post',
  path: '/v1/audit/verify',
  tags,
  summary: 'As GET, and also against anchors the caller sends, e.g. a copy shipped off the box (admin)',
  request: { body: { content: { 'application/json': { schema: AuditVerifyRequestSchema } }, required: true } },
  responses: { 200: json(AuditVerificationSchema, 'the verdict, with what was checked and each problem found'), ...errorResponses },
});

export function registerAuditRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(listAudit, async (c) => {
    const query = c.req.valid('query');
    const principal = c.get('principal');
    if (query.follow === 'true' && query.order === 'desc') {
      throw new BadRequestError('follow=true streams records as they land, oldest first: it cannot be combined with order=desc', { field: 'order' });
    }
    const filter: AuditQuery = {
      afterSeq: query.after,
      beforeSeq: query.before,
      sinceTs: query.since ? sinceToIso(query.since, 'since') : undefined,
      untilTs: query.until ? sinceToIso(query.until, 'until') : undefined,
      tenant: principal.role === 'admin' ? undefined : principal.tenant,
      action: query.action,
      decision: query.decision,
      outcome: query.outcome,
      principal: query.principal,
      sandbox: query.sandbox,
      text: query.q,
      order: query.order,
      limit: query.limit,
    };
    const records = await s.govern(c, { action: 'audit.read', resource: 'audit:*', context: { follow: query.follow === 'true' } }, async () =>
      s.audit.list(filter),
    );
    if (query.follow !== 'true') return c.json({ records }, 200);
    // Replay what matched, then every new record as it lands, until the client leaves.
    let unsubscribe = () => {};
    const visible = (e: AuditEntry) => auditMatches(e, filter);
    const body = ndjsonStream(
      (sink) => {
        let last = records.at(-1)?.seq ?? filter.afterSeq ?? 0;
        for (const r of records) sink.send(r);
        unsubscribe = s.audit.subscribe((entry) => {
          // The read above is itself audited: skip what the replay already sent.
          if (entry.seq <= last || !visible(entry)) return;
          last = entry.seq;
          sink.send(entry);
        });
        for (const r of s.audit.list({ ...filter, afterSeq: last })) {
          last = r.seq;
          sink.send(r);
        }
      },
      { onCancel: () => unsubscribe() },
    );
    c.get('signal').addEventListener('abort', () => unsubscribe());
    return new Response(body, { status: 200, headers: ndjsonHeaders() }) as never;
  });

  app.openapi(verifyAudit, async (c) => {
    const verdict = await s.govern(c, { action: 'audit.verify', resource: 'audit:*' }, async () => s.auditHeads.verify());
    return c.json(verdict, 200);
  });

  app.openapi(verifyAuditWithAnchors, async (c) => {
    const { anchors } = c.req.valid('json');
    const verdict = await s.govern(c, { action: 'audit.verify', resource: 'audit:*' }, async () => s.auditHeads.verify(anchors ?? ''));
    return c.json(verdict, 200);
  });
}

/** "1h", "30m", "7d" back from now, or an ISO time. */
function sinceToIso(since: string, field: 'since' | 'until'): string {
  if (/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(since)) return new Date(Date.now() - parseDurationMs(since)).toISOString();
  const t = Date.parse(since);
  if (Number.isNaN(t)) throw new BadRequestError(`${field}: "${since}" is neither a duration (30s, 15m, 1h, 7d) nor an ISO time`, { field });
  return new Date(t).toISOString();
}
