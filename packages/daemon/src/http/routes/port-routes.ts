import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { BadRequestError, PortLinkCreatedSchema, PortLinkCreateSchema, PortLinkSchema, PortListSchema } from '@paddock/core';
import { checkIngressPort } from '../../ingress/ingress-address.js';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json, SandboxIdParams } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['ports'];
const PortListResponse = PortListSchema.meta({ id: 'PortList' });
const PortLinkResponse = PortLinkSchema.meta({ id: 'PortLink' });
const PortLinkCreatedResponse = PortLinkCreatedSchema.meta({ id: 'PortLinkCreated' });
const PortLinkCreateRequest = PortLinkCreateSchema.meta({ id: 'PortLinkCreate' });
const LinkParams = SandboxIdParams.extend({ link: z.string().openapi({ param: { name: 'link', in: 'path' }, example: 'lnk-1a2b3c4d5e6f' }) });

const listPorts = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/ports',
  tags,
  summary: 'The TCP ports something listens on inside the sandbox, their URLs, and the public links that still work',
  description:
    'Each port is reached at its host URL (`<port>-<sandbox>.<domain>`, its own origin) or its path URL (`/v1/sandboxes/{id}/ports/{port}/…`) ' +
    'on this listener, with a token that may read the sandbox (Authorization: Bearer) or a public link.',
  request: { params: SandboxIdParams },
  responses: { 200: json(PortListResponse, 'ports and links'), ...errorResponses },
});

const createLink = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/port-links',
  tags,
  summary: 'Make a public link to a port: anyone with its URL opens the port until it expires or is revoked',
  description: 'The URLs returned hold the secret and are shown this once; only a digest of it is kept.',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: PortLinkCreateRequest } }, required: true } },
  responses: { 201: json(PortLinkCreatedResponse, 'the link, with its URLs'), ...errorResponses },
});

const listLinks = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/port-links',
  tags,
  summary: "The sandbox's public links that still work (without their secrets)",
  request: { params: SandboxIdParams },
  responses: { 200: json(z.object({ links: z.array(PortLinkResponse) }), 'links'), ...errorResponses },
});

const revokeLink = createRoute({
  method: 'delete',
  path: '/v1/sandboxes/{id}/port-links/{link}',
  tags,
  summary: 'Revoke a public link: it opens nothing from now on',
  request: { params: LinkParams },
  responses: { 200: json(z.object({ revoked: z.string() }), 'revoked'), ...errorResponses },
});

/**
 * GET /v1/sandboxes/{id}/port-forward/{port}: a WebSocket carrying one raw
 * TCP connection to the port. The upgrade is served by ingress, past the app;
 * here it is described, and a request without the upgrade is refused.
 */
function registerPortForward(app: OpenAPIHono<HttpEnv>): void {
  const path = '/v1/sandboxes/{id}/port-forward/{port}';
  app.openAPIRegistry.registerPath({
    method: 'get',
    path,
    tags,
    summary: 'Raw TCP to a port of the sandbox over a WebSocket (paddock port-forward)',
    description:
      "A WebSocket (send `Upgrade: websocket`) carrying one TCP connection to `port` on the sandbox's loopback, opened by its agent: " +
      "binary messages both ways are the stream's bytes; either side closing ends it. A token of the sandbox's tenant (Authorization: Bearer) " +
      'or a public link to that port (?paddock_link=) opens it; policy decides `sandbox.port.open` with context.op `forward`.',
    request: {
      params: SandboxIdParams.extend({ port: z.string().openapi({ param: { name: 'port', in: 'path' }, example: '5432' }) }),
      headers: z.object({ upgrade: z.literal('websocket'), connection: z.string().describe('names Upgrade') }),
    },
    responses: { 101: { description: 'switching to the WebSocket protocol' }, ...errorResponses },
  });
  app.get('/v1/sandboxes/:id/port-forward/:port', () => {
    throw new BadRequestError('port-forward is a WebSocket: send Upgrade: websocket');
  });
}

export function registerPortRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  registerPortForward(app);
  app.openapi(listPorts, async (c) => {
    const { id } = c.req.valid('param');
    const owner = c.get('principal').tenant;
    const list = await s.govern(
      c,
      { action: 'sandbox.port.list', resource: `sandbox:${id}`, precheck: () => s.sandboxes.requireRunning(owner, id) },
      async () => s.ports.list(s.sandboxes.requireRunning(owner, id)),
    );
    return c.json(list, 200);
  });

  app.openapi(createLink, async (c) => {
    const { id } = c.req.valid('param');
    const { port, ttlMs } = c.req.valid('json');
    const principal = c.get('principal');
    checkIngressPort(port);
    const link = await s.govern(
      c,
      {
        action: 'sandbox.port.expose',
        resource: `sandbox:${id}`,
        context: { port, op: 'create' },
        precheck: () => s.sandboxes.requireRunning(principal.tenant, id),
      },
      async () => s.ports.createLink(s.sandboxes.requireRunning(principal.tenant, id), port, ttlMs, principal),
    );
    return c.json(link, 201);
  });

  app.openapi(listLinks, async (c) => {
    const { id } = c.req.valid('param');
    const owner = c.get('principal').tenant;
    const links = await s.govern(c, { action: 'sandbox.port.list', resource: `sandbox:${id}`, precheck: () => s.sandboxes.requireLive(owner, id) }, async () =>
      s.ports.links(id),
    );
    return c.json({ links }, 200);
  });

  app.openapi(revokeLink, async (c) => {
    const { id, link } = c.req.valid('param');
    const owner = c.get('principal').tenant;
    await s.govern(
      c,
      { action: 'sandbox.port.expose', resource: `sandbox:${id}`, context: { op: 'revoke' }, precheck: () => s.sandboxes.requireLive(owner, id) },
      async () => s.ports.revokeLink(id, link),
    );
    return c.json({ revoked: link }, 200);
  });
}
