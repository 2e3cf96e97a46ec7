import { createHash } from 'node:crypto';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  canonicalJson,
  type GatewayManifest,
  GatewayServerNameSchema,
  GatewayServerSchema,
  GatewayServerSetSchema,
  GatewayToolCallSchema,
  type GatewayToolResult,
  GatewayToolResultSchema,
  GatewayToolSchema,
  gatewayManifestJsonSchema,
  gatewayServerNameMessage,
  gatewayServerNamePattern,
  parseGatewayToolName,
} from '@paddock/core';
import { GatewayToolNotFoundError, toolCallFacts } from '../../gateway/gateway-service.js';
import { type Caller, callerOf } from '../governed.js';
import type { HttpEnv } from '../http-env.js';
import { ndjsonHeaders, ndjsonStream, streamed } from '../ndjson.js';
import { errorResponses, json } from '../schemas.js';
import type { Services } from '../services.js';
import { mountingVolumes } from './mounting-volumes.js';

const tags = ['gateway'];
const ServerResponse = GatewayServerSchema.meta({ id: 'GatewayServer' });
const ToolResponse = GatewayToolSchema.meta({ id: 'GatewayTool' });
const ServerParams = z.object({
  name: z
    .string()
    .regex(gatewayServerNamePattern, gatewayServerNameMessage)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'github' }),
});
/** A gateway tool's name as the call route takes it (the MCP sessions check theirs alike). */
export const ToolParams = z.object({
  name: z
    .string()
    .max(200)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'github__create_issue' }),
});
const ServerSetBody = GatewayServerSetSchema.meta({ id: 'GatewayServerSet' });

/** Where the manifest's JSON Schema is published; no token needed (editors fetch it). */
export const manifestSchemaPath = '/v1/gateway/manifest.schema.json';

const manifestSchema = createRoute({
  method: 'get',
  path: manifestSchemaPath,
  tags,
  summary: 'The JSON Schema of a gateway manifest',
  security: [],
  responses: { 200: json(z.record(z.string(), z.unknown()), 'JSON Schema (draft 2020-12)') },
});

const addServer = createRoute({
  method: 'post',
  path: '/v1/gateway/servers',
  tags,
  summary: 'Add a third-party MCP server: it runs in a sandbox under its manifest, its tools offered as <name>__<tool>',
  request: {
    body: { content: { 'application/json': { schema: GatewayServerSetSchema.extend({ name: GatewayServerNameSchema }).strict() } }, required: true },
  },
  responses: { 201: json(ServerResponse, 'the server; it starts in the background'), ...errorResponses },
});

const setServer = createRoute({
  method: 'put',
  path: '/v1/gateway/servers/{name}',
  tags,
  summary: 'Add a server, or replace its command and manifest (it starts again; its pinned tool descriptions stay)',
  request: { params: ServerParams, body: { content: { 'application/json': { schema: ServerSetBody } }, required: true } },
  responses: { 200: json(ServerResponse, 'the server'), ...errorResponses },
});

const listServers = createRoute({
  method: 'get',
  path: '/v1/gateway/servers',
  tags,
  summary: "The tenant's gateway servers with their state and tools",
  responses: { 200: json(z.object({ servers: z.array(ServerResponse) }), 'servers'), ...errorResponses },
});

const getServer = createRoute({
  method: 'get',
  path: '/v1/gateway/servers/{name}',
  tags,
  summary: 'One gateway server: state, sandbox, restarts, last error, tools with their descriptions and pin state',
  request: { params: ServerParams },
  responses: { 200: json(ServerResponse, 'the server'), ...errorResponses },
});

const removeServer = createRoute({
  method: 'delete',
  path: '/v1/gateway/servers/{name}',
  tags,
  summary: 'Remove a server and kill its sandbox',
  request: { params: ServerParams },
  responses: { 200: json(z.object({ removed: z.string() }), 'removed'), ...errorResponses },
});

const restartServer = createRoute({
  method: 'post',
  path: '/v1/gateway/servers/{name}/restart',
  tags,
  summary: 'Start a server again now, in a fresh sandbox',
  request: { params: ServerParams },
  responses: { 200: json(ServerResponse, 'the server'), ...errorResponses },
});

const PinBody = z
  .object({
    digests: z
      .record(z.string().max(200), z.string().regex(/^[0-9a-f]{64}$/))
      .optional()
      .describe('tool → digest as the operator reviewed them (GET …/servers/{name}); the pin is refused if the listing differs'),
  })
  .strict();

const pinServer = createRoute({
  method: 'post',
  path: '/v1/gateway/servers/{name}/pin',
  tags,
  summary: 'Pin the tool descriptions and schemas as the server lists them now; a tool that changes afterwards is held back',
  request: { params: ServerParams, body: { content: { 'application/json': { schema: PinBody } }, required: false } },
  responses: { 200: json(ServerResponse, 'the server'), ...errorResponses },
});

const serverLogs = createRoute({
  method: 'get',
  path: '/v1/gateway/servers/{name}/logs',
  tags,
  summary: 'The last lines the server wrote to stderr, and its starts and ends',
  request: { params: ServerParams, query: z.object({ lines: z.coerce.number().int().min(1).max(500).optional() }) },
  responses: { 200: json(z.object({ lines: z.array(z.string()) }), 'log lines, oldest first'), ...errorResponses },
});

const ToolListResponse = z.object({ tools: z.array(ToolResponse) });
const listTools = createRoute({
  method: 'get',
  path: '/v1/gateway/tools',
  tags,
  summary: "The tools of the tenant's gateway servers; offered: false marks those held back",
  description:
    'With follow=true, an NDJSON stream: the list now, then the list again each time the offered tools change (MCP clients hear of it as tools/list_changed).',
  request: { query: z.object({ follow: z.enum(['true', 'false']).optional() }) },
  responses: {
    200: { description: 'tools', content: { 'application/json': { schema: ToolListResponse }, 'application/x-ndjson': { schema: ToolListResponse } } },
    ...errorResponses,
  },
});

const callTool = createRoute({
  method: 'post',
  path: '/v1/gateway/tools/{name}/call',
  tags,
  summary: 'Call a gateway tool: decided by policy (allow, deny or ask), audited with its arguments hashed and summarized',
  request: { params: ToolParams, body: { content: { 'application/json': { schema: GatewayToolCallSchema } }, required: true } },
  responses: {
    200: json(GatewayToolResultSchema.meta({ id: 'GatewayToolResult' }), 'the result as the server sent it (isError: the tool failed)'),
    ...errorResponses,
  },
});

/**
 * What the policy, an approver and the audit log see of a server being added
 * or replaced: its template, tier, hosts, secrets, host files and command, and
 * a digest of the whole request, so an approval covers exactly that server.
 */
function setContext(body: { command: string[]; manifest: GatewayManifest; pin?: boolean }): Record<string, unknown> {
  const { manifest } = body;
  return {
    template: manifest.template,
    tier: manifest.tier,
    hosts: manifest.network?.allow ?? [],
    secrets: manifest.secrets ?? [],
    files: [...(manifest.files?.read ?? []), ...(manifest.files?.write ?? [])],
    volumes: (manifest.volumes ?? []).map((v) => v.name),
    serverCommand: body.command.join(' ').slice(0, 500),
    requestDigest: createHash('sha256').update(canonicalJson(body)).digest('hex'),
  };
}

export function registerGatewayRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(manifestSchema, (c) => c.json(gatewayManifestJsonSchema(), 200));

  app.openapi(addServer, async (c) => {
    const { name, ...body } = c.req.valid('json');
    const principal = c.get('principal');
    const server = await s.govern(c, { action: 'gateway.server.set', resource: `mcp-server:${name}`, context: setContext(body) }, () =>
      mountingVolumes(c, s, body.manifest.volumes ?? [], () => s.gateway.add(principal, name, body)),
    );
    return c.json(server, 201);
  });

  app.openapi(setServer, async (c) => {
    const { name } = c.req.valid('param');
    const body = c.req.valid('json');
    const principal = c.get('principal');
    const server = await s.govern(c, { action: 'gateway.server.set', resource: `mcp-server:${name}`, context: setContext(body) }, () =>
      mountingVolumes(c, s, body.manifest.volumes ?? [], () =>
        s.gateway.has(principal.tenant, name) ? s.gateway.replace(principal.tenant, name, body) : s.gateway.add(principal, name, body),
      ),
    );
    return c.json(server, 200);
  });

  app.openapi(listServers, async (c) => {
    const servers = await s.govern(c, { action: 'gateway.server.list', resource: 'mcp-server:*' }, async () => s.gateway.list(c.get('principal').tenant));
    return c.json({ servers }, 200);
  });

  app.openapi(getServer, async (c) => {
    const { name } = c.req.valid('param');
    const server = await s.govern(c, { action: 'gateway.server.get', resource: `mcp-server:${name}` }, async () =>
      s.gateway.get(c.get('principal').tenant, name),
    );
    return c.json(server, 200);
  });

  app.openapi(removeServer, async (c) => {
    const { name } = c.req.valid('param');
    await s.govern(c, { action: 'gateway.server.remove', resource: `mcp-server:${name}` }, () => s.gateway.remove(c.get('principal').tenant, name));
    return c.json({ removed: name }, 200);
  });

  app.openapi(restartServer, async (c) => {
    const { name } = c.req.valid('param');
    const server = await s.govern(c, { action: 'gateway.server.restart', resource: `mcp-server:${name}` }, () =>
      s.gateway.restart(c.get('principal').tenant, name),
    );
    return c.json(server, 200);
  });

  app.openapi(pinServer, async (c) => {
    const { name } = c.req.valid('param');
    const digests = (c.req.valid('json') as { digests?: Record<string, string> } | undefined)?.digests;
    const server = await s.govern(c, { action: 'gateway.server.pin', resource: `mcp-server:${name}`, context: { reviewed: digests !== undefined } }, async () =>
      s.gateway.pin(c.get('principal').tenant, name, digests),
    );
    return c.json(server, 200);
  });

  app.openapi(serverLogs, async (c) => {
    const { name } = c.req.valid('param');
    const { lines } = c.req.valid('query');
    const out = await s.govern(c, { action: 'gateway.server.get', resource: `mcp-server:${name}`, context: { op: 'logs' } }, async () =>
      s.gateway.logs(c.get('principal').tenant, name, lines),
    );
    return c.json({ lines: out }, 200);
  });

  app.openapi(listTools, async (c) => {
    const tenant = c.get('principal').tenant;
    const follow = c.req.valid('query').follow === 'true';
    const tools = await s.govern(c, { action: 'gateway.tool.list', resource: 'mcp-server:*', context: { follow } }, async () => s.gateway.tools(tenant));
    if (!follow) return c.json({ tools }, 200);
    let unsubscribe = () => {};
    const body = ndjsonStream(
      (sink) => {
        sink.send({ tools });
        unsubscribe = s.gateway.onToolsChanged((changed) => {
          if (changed !== tenant) return;
          // A follower that does not read is let go (it follows again and gets the whole list then), not buffered for.
          if (!sink.send({ tools: s.gateway.tools(tenant) })) {
            unsubscribe();
            sink.close();
          }
        });
      },
      { onCancel: () => unsubscribe() },
    );
    c.get('signal').addEventListener('abort', () => unsubscribe());
    return streamed(new Response(body, { status: 200, headers: ndjsonHeaders() }));
  });

  app.openapi(callTool, async (c) => {
    const { name } = c.req.valid('param');
    const args = c.req.valid('json').arguments ?? {};
    return c.json(await callGatewayTool(s, callerOf(c), name, args), 200);
  });
}

/**
 * Calls a tool of one of the gateway's servers as `caller`: one decision, one
 * audit record (tool_error when the tool answered with an error). What
 * POST /v1/gateway/tools/{name}/call answers, and the gateway's tools of the
 * daemon's MCP sessions.
 */
export function callGatewayTool(s: Services, caller: Caller, name: string, args: Record<string, unknown>): Promise<GatewayToolResult> {
  const tenant = caller.principal.tenant;
  const parsed = parseGatewayToolName(name);
  const facts = toolCallFacts(parsed?.server ?? '-', parsed?.tool ?? name, args);
  return s.governAs(
    caller,
    {
      action: 'mcp.tool.call',
      resource: `mcp-server:${facts.server}`,
      context: { ...facts },
      precheck: () => {
        if (!parsed) throw new GatewayToolNotFoundError(name);
        s.gateway.resolveTool(tenant, name);
      },
      outcomeOf: (r) => ((r as { isError?: boolean }).isError ? 'tool_error' : 'ok'),
    },
    () => s.gateway.call(tenant, name, args, { signal: caller.signal }),
  );
}
