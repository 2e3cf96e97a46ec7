import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { NetworkUpdateSchema, SandboxNetworkSchema, SecretSchema, SecretSetSchema } from '@paddock/core';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json, SandboxIdParams } from '../schemas.js';
import type { Services } from '../services.js';

const NetworkResponse = SandboxNetworkSchema.meta({ id: 'SandboxNetwork' });
const SecretResponse = SecretSchema.meta({ id: 'Secret' });
const SecretParams = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'secret names are environment variable names: letters, digits and "_"')
    .openapi({ param: { name: 'name', in: 'path' }, example: 'OPENAI_API_KEY' }),
});

const getNetwork = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/network',
  tags: ['network'],
  summary: "The sandbox's egress rules, its secrets (names only) and its recent connections, allowed and refused",
  request: { params: SandboxIdParams },
  responses: { 200: json(NetworkResponse, 'network'), ...errorResponses },
});

const updateNetwork = createRoute({
  method: 'patch',
  path: '/v1/sandboxes/{id}/network',
  tags: ['network'],
  summary: 'Allow or deny hosts while the sandbox runs; new connections follow at once',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: NetworkUpdateSchema } }, required: true } },
  responses: { 200: json(NetworkResponse, 'the rules now in force'), ...errorResponses },
});

const setSecret = createRoute({
  method: 'put',
  path: '/v1/secrets/{name}',
  tags: ['secrets'],
  summary: 'Store (or replace) a secret and the hosts it is for; it is sealed at rest and never returned',
  request: { params: SecretParams, body: { content: { 'application/json': { schema: SecretSetSchema } }, required: true } },
  responses: { 200: json(SecretResponse, 'the secret, without its value'), ...errorResponses },
});

const listSecrets = createRoute({
  method: 'get',
  path: '/v1/secrets',
  tags: ['secrets'],
  summary: "The tenant's secrets: names and hosts",
  responses: { 200: json(z.object({ secrets: z.array(SecretResponse) }), 'secrets'), ...errorResponses },
});

const removeSecret = createRoute({
  method: 'delete',
  path: '/v1/secrets/{name}',
  tags: ['secrets'],
  summary: 'Remove a secret; sandboxes holding its placeholder no longer get it substituted',
  request: { params: SecretParams },
  responses: { 200: json(z.object({ removed: z.string() }), 'removed'), ...errorResponses },
});

export function registerNetworkRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(getNetwork, async (c) => {
    const { id } = c.req.valid('param');
    const owner = c.get('principal').tenant;
    const view = await s.govern(c, { action: 'sandbox.network.get', resource: `sandbox:${id}`, precheck: () => s.sandboxes.requireLive(owner, id) }, async () =>
      s.network.view(id),
    );
    return c.json(view, 200);
  });

  app.openapi(updateNetwork, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const owner = c.get('principal').tenant;
    const context = { hosts: [...(body.allow ?? [])], denied: [...(body.deny ?? [])] };
    const view = await s.govern(
      c,
      { action: 'sandbox.network.update', resource: `sandbox:${id}`, context, precheck: () => s.sandboxes.requireLive(owner, id) },
      async () => {
        s.network.update(id, body);
        return s.network.view(id);
      },
    );
    return c.json(view, 200);
  });

  app.openapi(setSecret, async (c) => {
    const { name } = c.req.valid('param');
    const body = c.req.valid('json');
    // The value never reaches the policy's context or the audit log.
    const secret = await s.govern(c, { action: 'secret.set', resource: `secret:${name}`, context: { hosts: body.hosts } }, async () =>
      s.secrets.set(c.get('principal').tenant, name, body.value, body.hosts),
    );
    return c.json(secret, 200);
  });

  app.openapi(listSecrets, async (c) => {
    const secrets = await s.govern(c, { action: 'secret.list', resource: 'secret:*' }, async () => s.secrets.list(c.get('principal').tenant));
    return c.json({ secrets }, 200);
  });

  app.openapi(removeSecret, async (c) => {
    const { name } = c.req.valid('param');
    await s.govern(c, { action: 'secret.remove', resource: `secret:${name}` }, async () => s.secrets.remove(c.get('principal').tenant, name));
    return c.json({ removed: name }, 200);
  });
}
