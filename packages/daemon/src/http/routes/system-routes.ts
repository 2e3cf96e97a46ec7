import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { paddockVersion } from '@paddock/core';
import type { HttpEnv } from '../http-env.js';
import { json } from '../schemas.js';

const healthRoute = createRoute({
  method: 'get',
  path: '/v1/health',
  tags: ['system'],
  summary: 'Liveness and version',
  responses: { 200: json(z.object({ status: z.literal('ok'), version: z.string() }), 'the daemon is up') },
});

export function registerSystemRoutes(app: OpenAPIHono<HttpEnv>): void {
  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const, version: paddockVersion }, 200));
}
