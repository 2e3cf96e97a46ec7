import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { paddockVersion } from '@paddock/core';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json } from '../schemas.js';
import type { Services } from '../services.js';

const healthRoute = createRoute({
  method: 'get',
  path: '/v1/health',
  tags: ['system'],
  summary: 'Liveness and version',
  responses: { 200: json(z.object({ status: z.literal('ok'), version: z.string() }), 'the daemon is up') },
});

const auditRoute = createRoute({
  method: 'get',
  path: '/v1/audit',
  tags: ['system'],
  summary: 'Audit records in order (append-only)',
  request: { query: z.object({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(10_000).optional() }) },
  responses: {
    200: json(
      z.object({
        records: z.array(
          z.object({
            seq: z.number(),
            ts: z.string(),
            requestId: z.string().nullable(),
            principal: z.string(),
            action: z.string(),
            resource: z.string(),
            decision: z.string(),
            outcome: z.string(),
            details: z.record(z.string(), z.unknown()),
          }),
        ),
      }),
      'records',
    ),
    ...errorResponses,
  },
});

export function registerSystemRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const, version: paddockVersion }, 200));
  app.openapi(auditRoute, async (c) => {
    const { after, limit } = c.req.valid('query');
    const records = await s.govern(c, { action: 'audit.read', resource: 'audit:*' }, async () => s.audit.list({ afterSeq: after, limit }));
    return c.json({ records }, 200);
  });
}
