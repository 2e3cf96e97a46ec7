import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  OwnerKindSchema,
  ownerKindOf,
  RoleSchema,
  StoredTokenScopeSchema,
  TenantCreateSchema,
  TenantSchema,
  TenantUpdateSchema,
  TokenCreatedSchema,
  TokenCreateSchema,
  TokenSchema,
} from '@paddock/core';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['tenants'];
const TenantResponse = TenantSchema.meta({ id: 'Tenant' });
const TokenResponse = TokenSchema.meta({ id: 'Token' });
const NameParams = z.object({ name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: 'acme' }) });
const TokenIdParams = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'tok_3f2a…' }) });
const body = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });

const routes = {
  createTenant: createRoute({
    method: 'post',
    path: '/v1/tenants',
    tags,
    summary: 'Create a tenant with quotas (admin)',
    request: body(TenantCreateSchema),
    responses: { 201: json(TenantResponse, 'the tenant'), ...errorResponses },
  }),
  listTenants: createRoute({
    method: 'get',
    path: '/v1/tenants',
    tags,
    summary: 'Tenants with their quotas and usage (an operator sees its own)',
    responses: { 200: json(z.object({ tenants: z.array(TenantResponse) }), 'tenants'), ...errorResponses },
  }),
  getTenant: createRoute({
    method: 'get',
    path: '/v1/tenants/{name}',
    tags,
    summary: 'One tenant',
    request: { params: NameParams },
    responses: { 200: json(TenantResponse, 'the tenant'), ...errorResponses },
  }),
  updateTenant: createRoute({
    method: 'patch',
    path: '/v1/tenants/{name}',
    tags,
    summary: 'Change quotas (admin); null removes a limit',
    request: { params: NameParams, ...body(TenantUpdateSchema) },
    responses: { 200: json(TenantResponse, 'the tenant'), ...errorResponses },
  }),
  deleteTenant: createRoute({
    method: 'delete',
    path: '/v1/tenants/{name}',
    tags,
    summary: 'Remove a tenant with no live sandboxes, and its tokens (admin)',
    request: { params: NameParams },
    responses: { 200: json(z.object({ deleted: z.string() }), 'removed'), ...errorResponses },
  }),
  createToken: createRoute({
    method: 'post',
    path: '/v1/tokens',
    tags,
    summary: 'Create a token; its secret is shown once',
    request: body(TokenCreateSchema),
    responses: { 201: json(TokenCreatedSchema, 'the token and its secret'), ...errorResponses },
  }),
  listTokens: createRoute({
    method: 'get',
    path: '/v1/tokens',
    tags,
    summary: 'Tokens (never their secrets)',
    request: { query: z.object({ tenant: z.string().optional() }) },
    responses: { 200: json(z.object({ tokens: z.array(TokenResponse) }), 'tokens'), ...errorResponses },
  }),
  revokeToken: createRoute({
    method: 'delete',
    path: '/v1/tokens/{id}',
    tags,
    summary: 'Revoke a token: it stops working at once',
    request: { params: TokenIdParams },
    responses: { 200: json(TokenResponse, 'the revoked token'), ...errorResponses },
  }),
  whoami: createRoute({
    method: 'get',
    path: '/v1/whoami',
    tags,
    summary: 'The caller: token id, tenant, role and owner',
    responses: {
      200: json(
        z.object({
          principal: z.string(),
          tenant: z.string(),
          role: RoleSchema,
          owner: z.string(),
          ownerKind: OwnerKindSchema,
          scope: StoredTokenScopeSchema.optional().describe("a capability token's scope (actions as API names)"),
          expiresAt: z.string().nullable().optional().describe("a capability token's expiry"),
        }),
        'the caller',
      ),
      ...errorResponses,
    },
  }),
};

export function registerTenantRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(routes.createTenant, async (c) => {
    const input = c.req.valid('json');
    const tenant = await s.govern(c, { action: 'tenant.create', resource: `tenant:${input.name}`, context: { quotas: input } }, async () =>
      s.tenants.create(input),
    );
    return c.json(tenant, 201);
  });
  app.openapi(routes.listTenants, async (c) => {
    const tenants = await s.govern(c, { action: 'tenant.list', resource: 'tenant:*' }, async () => s.tenants.list(c.get('principal')));
    return c.json({ tenants }, 200);
  });
  app.openapi(routes.getTenant, async (c) => {
    const { name } = c.req.valid('param');
    const tenant = await s.govern(c, { action: 'tenant.get', resource: `tenant:${name}`, context: { tenant: name } }, async () => s.tenants.get(name));
    return c.json(tenant, 200);
  });
  app.openapi(routes.updateTenant, async (c) => {
    const { name } = c.req.valid('param');
    const input = c.req.valid('json');
    const tenant = await s.govern(c, { action: 'tenant.update', resource: `tenant:${name}`, context: { tenant: name, quotas: input } }, async () =>
      s.tenants.update(name, input),
    );
    return c.json(tenant, 200);
  });
  app.openapi(routes.deleteTenant, async (c) => {
    const { name } = c.req.valid('param');
    await s.govern(c, { action: 'tenant.delete', resource: `tenant:${name}`, context: { tenant: name } }, async () => s.tenants.remove(name));
    return c.json({ deleted: name }, 200);
  });
  app.openapi(routes.createToken, async (c) => {
    const input = c.req.valid('json');
    const tenant = input.tenant ?? c.get('principal').tenant;
    const created = await s.govern(
      c,
      {
        action: 'token.create',
        resource: `tenant:${tenant}`,
        // scoped: the new token has a scope or an expiry (its own, or its scoped maker's).
        context: {
          tenant,
          role: input.role,
          name: input.name,
          owner: input.owner,
          scoped: input.scope !== undefined || input.ttlMs !== undefined || c.get('principal').grant !== undefined,
        },
      },
      async () => s.tenants.createToken(c.get('principal'), input),
    );
    return c.json(created, 201);
  });
  app.openapi(routes.listTokens, async (c) => {
    const { tenant } = c.req.valid('query');
    const tokens = await s.govern(c, { action: 'token.list', resource: `tenant:${tenant ?? '*'}`, context: { tenant } }, async () =>
      s.tenants.listTokens(c.get('principal'), tenant),
    );
    return c.json({ tokens }, 200);
  });
  app.openapi(routes.revokeToken, async (c) => {
    const { id } = c.req.valid('param');
    const token = await s.govern(c, { action: 'token.revoke', resource: `token:${id}` }, async () => s.tenants.revokeToken(c.get('principal'), id));
    return c.json(token, 200);
  });
  app.openapi(routes.whoami, async (c) => {
    const p = c.get('principal');
    const grant = p.grant ? { scope: p.grant.scope, expiresAt: p.grant.expiresAt } : {};
    return c.json({ principal: p.id, tenant: p.tenant, role: p.role, owner: p.owner, ownerKind: ownerKindOf(p.owner), ...grant }, 200);
  });
}
