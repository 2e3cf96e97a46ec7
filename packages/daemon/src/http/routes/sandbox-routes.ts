import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  BadRequestError,
  CheckpointSchema,
  ForkCreateSchema,
  RollbackSchema,
  type SandboxCreateRequest,
  SandboxCreateSchema,
  SandboxListQuerySchema,
  SandboxTimeoutSchema,
  SnapshotCreateSchema,
} from '@paddock/core';
import type { Context } from 'hono';
import { type SandboxRecord, toSandboxInfo } from '../../store/sandbox-store.js';
import type { HttpEnv } from '../http-env.js';
import { errorResponses, json, SandboxIdParams, SandboxResponse, TemplateResponse } from '../schemas.js';
import type { Services } from '../services.js';
import { mountingVolumes } from './mounting-volumes.js';

const tags = ['sandboxes'];

const createSandbox = createRoute({
  method: 'post',
  path: '/v1/sandboxes',
  tags,
  summary: 'Create a sandbox',
  request: { body: { content: { 'application/json': { schema: SandboxCreateSchema.meta({ id: 'SandboxCreate' }) } }, required: true } },
  responses: { 201: json(SandboxResponse, 'the running sandbox'), ...errorResponses },
});

const listSandboxes = createRoute({
  method: 'get',
  path: '/v1/sandboxes',
  tags,
  summary: 'List sandboxes (running and paused unless state says otherwise)',
  request: { query: SandboxListQuerySchema },
  responses: { 200: json(z.object({ sandboxes: z.array(SandboxResponse) }), 'matching sandboxes'), ...errorResponses },
});

const getSandbox = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}',
  tags,
  summary: 'Inspect a sandbox',
  request: { params: SandboxIdParams },
  responses: { 200: json(SandboxResponse, 'the sandbox'), ...errorResponses },
});

const killSandbox = createRoute({
  method: 'delete',
  path: '/v1/sandboxes/{id}',
  tags,
  summary: 'Kill a sandbox and remove everything it had',
  description: 'Returns once nothing of the sandbox is left, or, with wait=false, as soon as it is marked killed (teardown goes on).',
  request: { params: SandboxIdParams, query: z.object({ wait: z.enum(['true', 'false']).optional() }) },
  responses: { 200: json(SandboxResponse, 'the killed sandbox'), ...errorResponses },
});

const killAll = createRoute({
  method: 'delete',
  path: '/v1/sandboxes',
  tags,
  summary: 'Kill every sandbox of the caller',
  responses: { 200: json(z.object({ killed: z.array(z.string()) }), 'ids of the killed sandboxes'), ...errorResponses },
});

const setTimeoutRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/timeout',
  tags,
  summary: 'Set the time left before the sandbox is killed, counted from now',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: SandboxTimeoutSchema } }, required: true } },
  responses: { 200: json(SandboxResponse, 'the sandbox with its new expiry'), ...errorResponses },
});

const pauseRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/pause',
  tags,
  summary: 'Freeze every process of the sandbox',
  request: { params: SandboxIdParams },
  responses: { 200: json(SandboxResponse, 'the paused sandbox'), ...errorResponses },
});

const resumeRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/resume',
  tags,
  summary: 'Thaw a paused sandbox',
  request: { params: SandboxIdParams },
  responses: { 200: json(SandboxResponse, 'the running sandbox'), ...errorResponses },
});

const snapshotRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/snapshots',
  tags,
  summary: 'Keep the sandbox’s files as an immutable template (the sandbox goes on)',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: SnapshotCreateSchema } }, required: true } },
  responses: { 201: json(TemplateResponse, 'the snapshot, usable as a template'), ...errorResponses },
});

const forkRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/fork',
  tags,
  summary: 'A new sandbox with this one’s files (the original is untouched)',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: ForkCreateSchema } }, required: false } },
  responses: { 201: json(SandboxResponse, 'the fork, running'), ...errorResponses },
});

const CheckpointResponse = CheckpointSchema.meta({ id: 'Checkpoint' });

const checkpointRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/checkpoints',
  tags,
  summary: 'Record the sandbox’s files, to roll back to later (the sandbox goes on)',
  request: { params: SandboxIdParams },
  responses: { 201: json(CheckpointResponse, 'the checkpoint'), ...errorResponses },
});

const listCheckpointsRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/checkpoints',
  tags,
  summary: 'The sandbox’s checkpoints, oldest first',
  request: { params: SandboxIdParams },
  responses: { 200: json(z.object({ checkpoints: z.array(CheckpointResponse) }), 'checkpoints'), ...errorResponses },
});

const rollbackRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/rollback',
  tags,
  summary: 'Put the files back exactly as at a checkpoint; the sandbox’s processes restart',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: RollbackSchema } }, required: true } },
  responses: { 200: json(SandboxResponse, 'the sandbox, running again'), ...errorResponses },
});

export function registerSandboxRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(createSandbox, async (c) => {
    const record = await governedCreate(c, s, c.req.valid('json'));
    return c.json(toSandboxInfo(record, s.takeovers.controlOf(record.id)), 201);
  });

  app.openapi(listSandboxes, async (c) => {
    const query = c.req.valid('query');
    const labels = parseLabels(query.label);
    const records = await s.govern(c, { action: 'sandbox.list', resource: 'sandbox:*', context: { state: query.state, labels } }, async () =>
      s.sandboxes.list(c.get('principal').tenant, { state: query.state, labels }).filter((r) => s.scopes.admitsSandbox(c.get('principal'), r)),
    );
    return c.json({ sandboxes: records.map((r) => toSandboxInfo(r, s.takeovers.controlOf(r.id))) }, 200);
  });

  app.openapi(getSandbox, async (c) => {
    const { id } = c.req.valid('param');
    const record = await s.govern(c, { action: 'sandbox.get', resource: `sandbox:${id}` }, async () => s.sandboxes.get(c.get('principal').tenant, id));
    return c.json(toSandboxInfo(record, s.takeovers.controlOf(record.id)), 200);
  });

  app.openapi(killSandbox, async (c) => {
    const { id } = c.req.valid('param');
    const wait = c.req.valid('query').wait !== 'false';
    const record = await s.govern(c, { action: 'sandbox.kill', resource: `sandbox:${id}` }, () => s.sandboxes.kill(c.get('principal').tenant, id, { wait }));
    return c.json(toSandboxInfo(record, s.takeovers.controlOf(record.id)), 200);
  });

  app.openapi(killAll, async (c) => {
    const killed = await s.govern(c, { action: 'sandbox.kill', resource: 'sandbox:*' }, () =>
      s.sandboxes.killAll(c.get('principal').tenant, (r) => s.scopes.admitsSandbox(c.get('principal'), r)),
    );
    return c.json({ killed }, 200);
  });

  app.openapi(setTimeoutRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { timeoutMs } = c.req.valid('json');
    const record = await s.govern(c, { action: 'sandbox.timeout', resource: `sandbox:${id}`, context: { timeoutMs } }, async () =>
      s.sandboxes.setTimeout(c.get('principal').tenant, id, timeoutMs),
    );
    return c.json(toSandboxInfo(record, s.takeovers.controlOf(record.id)), 200);
  });

  app.openapi(pauseRoute, async (c) => {
    const { id } = c.req.valid('param');
    const record = await s.govern(c, { action: 'sandbox.pause', resource: `sandbox:${id}` }, () => s.sandboxes.pause(c.get('principal').tenant, id));
    return c.json(toSandboxInfo(record, s.takeovers.controlOf(record.id)), 200);
  });

  app.openapi(snapshotRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const owner = c.get('principal').tenant;
    const template = await s.govern(
      c,
      { action: 'sandbox.snapshot', resource: `sandbox:${id}`, context: { template: body.name }, precheck: () => s.sandboxes.requireLive(owner, id) },
      () => s.snapshots.snapshot(owner, id, body, c.get('signal')),
    );
    return c.json(template, 201);
  });

  app.openapi(forkRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
    const input = ForkCreateSchema.parse(body);
    const owner = c.get('principal').tenant;
    const record = await s.govern(c, { action: 'sandbox.fork', resource: `sandbox:${id}`, precheck: () => s.sandboxes.requireLive(owner, id) }, () =>
      s.snapshots.fork(owner, id, input, { signal: c.get('signal'), createdBy: c.get('principal').owner }),
    );
    return c.json(toSandboxInfo(record, s.takeovers.controlOf(record.id)), 201);
  });

  app.openapi(checkpointRoute, async (c) => {
    const { id } = c.req.valid('param');
    const owner = c.get('principal').tenant;
    const cp = await s.govern(c, { action: 'sandbox.checkpoint', resource: `sandbox:${id}`, precheck: () => s.sandboxes.requireLive(owner, id) }, () =>
      s.checkpoints.checkpoint(owner, id, c.get('signal')),
    );
    return c.json(cp, 201);
  });

  app.openapi(listCheckpointsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const owner = c.get('principal').tenant;
    const checkpoints = await s.govern(c, { action: 'sandbox.get', resource: `sandbox:${id}` }, () => s.checkpoints.list(owner, id));
    return c.json({ checkpoints }, 200);
  });

  app.openapi(rollbackRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { checkpoint } = c.req.valid('json');
    const owner = c.get('principal').tenant;
    const record = await s.govern(
      c,
      { action: 'sandbox.rollback', resource: `sandbox:${id}`, context: { checkpoint }, precheck: () => s.sandboxes.requireLive(owner, id) },
      () => s.checkpoints.rollback(owner, id, checkpoint, c.get('signal')),
    );
    return c.json(toSandboxInfo(record, s.takeovers.controlOf(record.id)), 200);
  });

  app.openapi(resumeRoute, async (c) => {
    const { id } = c.req.valid('param');
    const record = await s.govern(c, { action: 'sandbox.resume', resource: `sandbox:${id}` }, () => s.sandboxes.resume(c.get('principal').tenant, id));
    return c.json(toSandboxInfo(record, s.takeovers.controlOf(record.id)), 200);
  });
}

/** A sandbox.create decision, audit record and create: every API that makes sandboxes (Paddock's, E2B's) through this one. */
export function governedCreate(c: Context<HttpEnv>, s: Services, body: SandboxCreateRequest): Promise<SandboxRecord> {
  return s.govern(
    c,
    {
      action: 'sandbox.create',
      resource: `template:${body.template}`,
      context: {
        template: body.template,
        tier: s.sandboxes.previewTier(body),
        limits: body.limits ?? {},
        labels: body.metadata ?? {},
        network: body.network?.mode ?? 'proxy',
        hosts: body.network?.allow ?? [],
        secrets: body.secrets ?? [],
      },
    },
    async () => {
      await s.builtInTemplates.ensure(body.template, c.get('principal').tenant);
      return mountingVolumes(c, s, body.volumes ?? [], () =>
        s.sandboxes.createParsed(c.get('principal').tenant, body, { signal: c.get('signal'), createdBy: c.get('principal').owner }),
      );
    },
  );
}

export function parseLabels(label: string | string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of label === undefined ? [] : Array.isArray(label) ? label : [label]) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new BadRequestError(`label filter "${pair}" must be key=value`, { field: 'label' });
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}
