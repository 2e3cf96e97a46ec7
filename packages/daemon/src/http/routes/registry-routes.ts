import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { RegistryLoginInfoSchema, RegistryLoginSchema, registryHostPattern } from '@paddock/core';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['registries'];
const LoginResponse = RegistryLoginInfoSchema.meta({ id: 'RegistryLogin' });
const HostParams = z.object({
  host: z
    .string()
    .regex(registryHostPattern, 'a registry is host or host:port, in lower case')
    .openapi({ param: { name: 'host', in: 'path' }, example: 'registry.example.com' }),
});
const SharedQuery = z.object({ shared: z.enum(['true', 'false']).optional().describe("the admin's shared login, not the tenant's own") });

const loginRoute = createRoute({
  method: 'put',
  path: '/v1/registries/{host}',
  tags,
  summary: "Store (or replace) the tenant's login to an image registry, or with shared an admin's login for every tenant",
  description: 'The password is sealed at rest; it is used only by the daemon for pulls, and never returned, logged, audited or given to a sandbox.',
  request: { params: HostParams, body: { content: { 'application/json': { schema: RegistryLoginSchema.meta({ id: 'RegistryLoginSet' }) } }, required: true } },
  responses: { 200: json(LoginResponse, 'the login, without its password'), ...errorResponses },
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/registries',
  tags,
  summary: "The tenant's registry logins and the shared ones: hosts and user names",
  responses: { 200: json(z.object({ registries: z.array(LoginResponse) }), 'logins'), ...errorResponses },
});

const logoutRoute = createRoute({
  method: 'delete',
  path: '/v1/registries/{host}',
  tags,
  summary: 'Remove a registry login',
  request: { params: HostParams, query: SharedQuery },
  responses: { 200: json(z.object({ removed: z.string() }), 'removed'), ...errorResponses },
});

export function registerRegistryRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(loginRoute, async (c) => {
    const { host } = c.req.valid('param');
    const body = c.req.valid('json');
    const principal = c.get('principal');
    // The password never reaches the policy's context or the audit log.
    const login = await s.govern(
      c,
      { action: 'registry.login', resource: `registry:${host}`, context: { host, username: body.username, shared: body.shared ?? false } },
      async () => s.registries.set({ tenant: principal.tenant, admin: principal.role === 'admin', shared: body.shared }, host, body),
    );
    return c.json(login, 200);
  });

  app.openapi(listRoute, async (c) => {
    const registries = await s.govern(c, { action: 'registry.list', resource: 'registry:*' }, async () => s.registries.list(c.get('principal').tenant));
    return c.json({ registries }, 200);
  });

  app.openapi(logoutRoute, async (c) => {
    const { host } = c.req.valid('param');
    const shared = c.req.valid('query').shared === 'true';
    const principal = c.get('principal');
    await s.govern(c, { action: 'registry.logout', resource: `registry:${host}`, context: { host, shared } }, async () =>
      s.registries.remove({ tenant: principal.tenant, admin: principal.role === 'admin', shared }, host),
    );
    return c.json({ removed: host }, 200);
  });
}
