import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { CheckReportSchema, paddockVersion } from '@paddock/core';
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

const gcRoute = createRoute({
  method: 'post',
  path: '/v1/gc',
  tags: ['system'],
  summary: 'Remove layers no template uses, fork layers no sandbox uses and build cache layers no template or running build uses (admin); never a layer in use',
  responses: {
    200: json(
      z.object({ removedLayers: z.array(z.string()), removedForkLayers: z.array(z.string()), removedCacheLayers: z.array(z.string()) }),
      'what was removed',
    ),
    ...errorResponses,
  },
});

const checkRoute = createRoute({
  method: 'get',
  path: '/v1/check',
  tags: ['system'],
  summary: 'Security report of this deployment (admin): host facts, settings and policies, each ok, warn, fail or info',
  responses: { 200: json(CheckReportSchema, 'the report'), ...errorResponses },
});

export function registerSystemRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(gcRoute, async (c) => {
    const result = await s.govern(c, { action: 'system.gc', resource: 'system:gc' }, async () => {
      const removedForkLayers = await s.snapshots.collectForkLayers();
      const removedCacheLayers = await s.templates.removeUnusedCache();
      // Layers younger than ten minutes may be a build or snapshot still being written.
      const removedLayers = (await s.templates.removeOrphanLayers(10 * 60_000)).map((dir) => dir.split('/').at(-1) ?? dir);
      return { removedLayers, removedForkLayers, removedCacheLayers };
    });
    return c.json(result, 200);
  });
  app.openapi(checkRoute, async (c) => {
    const tenant = c.get('principal').tenant;
    const report = await s.govern(c, { action: 'system.check', resource: 'system:check' }, () => s.check(tenant, { signal: c.get('signal') }));
    return c.json(report, 200);
  });
  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const, version: paddockVersion }, 200));
}
