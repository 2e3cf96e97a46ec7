import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { PoolSchema, PoolSetSchema } from '@paddock/core';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['pools'];
const PoolResponse = PoolSchema.meta({ id: 'Pool' });

const setPool = createRoute({
  method: 'post',
  path: '/v1/pools',
  tags,
  summary: 'Keep ready sandboxes of a template, tier and limits (creates that match are served from it); size 0 empties it',
  request: { body: { content: { 'application/json': { schema: PoolSetSchema } }, required: true } },
  responses: { 200: json(PoolResponse, 'the pool; it fills in the background'), ...errorResponses },
});

const listPools = createRoute({
  method: 'get',
  path: '/v1/pools',
  tags,
  summary: 'Pools with how many sandboxes are ready, hits, misses and refill time',
  responses: { 200: json(z.object({ pools: z.array(PoolResponse) }), 'pools'), ...errorResponses },
});

const removePool = createRoute({
  method: 'delete',
  path: '/v1/pools/{id}',
  tags,
  summary: 'Remove a pool and kill the sandboxes it kept',
  request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'pool_4f1c2a9b0d3e' }) }) },
  responses: { 200: json(z.object({ removed: z.string() }), 'removed'), ...errorResponses },
});

export function registerPoolRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(setPool, async (c) => {
    const body = c.req.valid('json');
    const pool = await s.govern(c, { action: 'pool.set', resource: `pool:${body.template}`, context: { template: body.template, tier: body.tier } }, async () =>
      s.pools.set(body),
    );
    return c.json(pool, 200);
  });
  app.openapi(listPools, async (c) => {
    const pools = await s.govern(c, { action: 'pool.list', resource: 'pool:*' }, async () => s.pools.list());
    return c.json({ pools }, 200);
  });
  app.openapi(removePool, async (c) => {
    const { id } = c.req.valid('param');
    await s.govern(c, { action: 'pool.remove', resource: `pool:${id}` }, () => s.pools.remove(id));
    return c.json({ removed: id }, 200);
  });
}
