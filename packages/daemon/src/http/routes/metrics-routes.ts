import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { SandboxMetricsSchema, StatsHistorySchema } from '@paddock/core';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json, SandboxIdParams } from '../schemas.js';
import type { Services } from '../services.js';
import { statsRefusal } from './event-routes.js';

const sandboxMetrics = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/metrics',
  tags: ['sandboxes'],
  summary: 'The sandbox’s CPU, memory, pids and egress: the newest reading and the last 150 (one per sampling tick)',
  request: { params: SandboxIdParams },
  responses: { 200: json(SandboxMetricsSchema.meta({ id: 'SandboxMetrics' }), 'readings, oldest first'), ...errorResponses },
});

const stats = createRoute({
  method: 'get',
  path: '/v1/stats',
  tags: ['system'],
  summary: 'The daemon’s statistics over the last 30 minutes, one sample per 10 s: the caller’s tenant’s (the whole daemon’s for an admin)',
  responses: { 200: json(StatsHistorySchema.meta({ id: 'StatsHistory' }), 'samples, oldest first'), ...errorResponses },
});

export function registerMetricsRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(sandboxMetrics, async (c) => {
    const { id } = c.req.valid('param');
    const metrics = await s.govern(c, { action: 'sandbox.get', resource: `sandbox:${id}`, context: { metrics: true } }, async () => {
      // Not found unless the caller's tenant has it, as every sandbox route.
      s.sandboxes.get(c.get('principal').tenant, id);
      return s.metrics.metrics(id);
    });
    return c.json(metrics, 200);
  });

  app.openapi(stats, async (c) => {
    const principal = c.get('principal');
    const precheck = () => {
      const refused = statsRefusal(principal);
      if (refused) throw refused;
    };
    const history = await s.govern(c, { action: 'sandbox.list', resource: 'sandbox:*', context: { stats: true }, precheck }, async () =>
      s.stats.historyOf(principal.role === 'admin' ? undefined : principal.tenant),
    );
    return c.json({ history }, 200);
  });
}
