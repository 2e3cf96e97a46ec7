import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type TemplateBuildEvent, TemplateBuildSchema, templateNamePattern } from '@paddock/core';
import type { Principal } from '../../auth/token-auth.js';
import { registryHostOf } from '../../images/skopeo.js';
import type { BuildOutput, TemplateCaller } from '../../templates/template-service.js';
import { apiError } from '../api-error.js';
import type { HttpEnv } from '../http-env.js';
import { type NdjsonSink, ndjsonHeaders, ndjsonStream, streamed } from '../ndjson.js';
import { errorResponses, json, TemplateResponse } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['templates'];
const NameParams = z.object({
  name: z
    .string()
    .regex(templateNamePattern)
    .openapi({ param: { name: 'name', in: 'path' } }),
});

const TemplateBuildRequest = TemplateBuildSchema.meta({ id: 'TemplateBuild' });

const listRoute = createRoute({
  method: 'get',
  path: '/v1/templates',
  tags,
  summary: 'List templates',
  responses: { 200: json(z.object({ templates: z.array(TemplateResponse) }), 'templates'), ...errorResponses },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/templates/{name}',
  tags,
  summary: 'Inspect a template',
  request: { params: NameParams },
  responses: { 200: json(TemplateResponse, 'the template'), ...errorResponses },
});

const removeRoute = createRoute({
  method: 'delete',
  path: '/v1/templates/{name}',
  tags,
  summary: 'Remove a template no sandbox or child template uses',
  request: { params: NameParams },
  responses: { 200: json(z.object({ removed: z.string() }), 'removed'), ...errorResponses },
});

const buildRoute = createRoute({
  method: 'post',
  path: '/v1/templates',
  tags,
  summary: 'Build a template from a Paddockfile; streams progress as NDJSON',
  description:
    'Events: {"type":"step","index","total","text"}, {"type":"log","stream","data"}, then {"type":"done","template"} or {"type":"error","error"}. ' +
    'Invalid files and unknown parents fail before the stream starts, with a 4xx; registry images a Dockerfile starts from are pulled once it has ' +
    'started (their progress as log events), and a failed pull is an error event naming the line.',
  request: { body: { content: { 'application/json': { schema: TemplateBuildRequest } }, required: true } },
  responses: { 200: { description: 'NDJSON progress', content: { 'application/x-ndjson': { schema: z.string() } } }, ...errorResponses },
});

const prepareRoute = createRoute({
  method: 'post',
  path: '/v1/templates/{name}/prepare',
  tags,
  summary: 'Make a template ready; a template the daemon carries (code-interpreter, desktop) is built now if it is not yet, streaming progress as NDJSON',
  description:
    'The events of a build: {"type":"step",…} and {"type":"log",…} while a template the daemon carries builds (a caller that joins a running build ' +
    'first gets its steps so far), then {"type":"done","template"} or {"type":"error","error"}. A template that exists answers done at once. ' +
    'Decided as template.get: the first sandbox asking for the template would build it the same way.',
  request: { params: NameParams },
  responses: { 200: { description: 'NDJSON progress', content: { 'application/x-ndjson': { schema: z.string() } } }, ...errorResponses },
});

export function registerTemplateRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(listRoute, async (c) => {
    const templates = await s.govern(c, { action: 'template.list', resource: 'template:*' }, async () => s.templates.list(c.get('principal').tenant));
    return c.json({ templates }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { name } = c.req.valid('param');
    const template = await s.govern(c, { action: 'template.get', resource: `template:${name}` }, async () => s.templates.get(name, c.get('principal').tenant));
    return c.json(template, 200);
  });

  app.openapi(removeRoute, async (c) => {
    const { name } = c.req.valid('param');
    await s.govern(c, { action: 'template.remove', resource: `template:${name}` }, () => s.templates.remove(name, callerOf(c.get('principal'))));
    return c.json({ removed: name }, 200);
  });

  registerPrepareRoute(app, s);

  app.openapi(buildRoute, async (c) => {
    const body = c.req.valid('json');
    const owner = c.get('principal').tenant;
    const abort = new AbortController();
    const plan = s.templates.plan(
      {
        name: body.name,
        from: body.from,
        file: (body.dockerfile ?? body.paddockfile) as string,
        fileKind: body.dockerfile === undefined ? 'Paddockfile' : 'Dockerfile',
        context: body.context ? Buffer.from(body.context, 'base64') : undefined,
        buildArgs: body.buildArgs,
        allow: body.allow,
        secrets: body.secrets,
        noCache: body.noCache,
      },
      callerOf(c.get('principal')),
    );
    let sink: { send(v: unknown): boolean; close(): void } | undefined;
    const events: TemplateBuildEvent[] = [];
    const drained = new Set<() => void>();
    const output: BuildOutput = {
      emit: (e) => (sink ? sink.send(e) : events.push(e) > 0),
      whenDrained: (resume) => drained.add(resume),
    };
    const build = s.govern(
      c,
      {
        action: 'template.build',
        resource: `template:${body.name}`,
        // Its steps' network: the policy sees every host they may reach and the secrets they get, as for sandbox.create.
        // The registry images its stages start from, and their registries' hosts, as a pull's decision sees them.
        context: {
          template: plan.parentName ?? 'scratch',
          network: 'proxy',
          hosts: plan.allow,
          secrets: body.secrets ?? [],
          images: plan.images,
          registries: [...new Set(plan.images.map(registryHostOf))],
        },
      },
      () => s.templates.build(owner, plan, output, abort.signal),
    );
    build.catch(() => {});
    const stream = ndjsonStream(
      (s$) => {
        sink = s$;
        for (const e of events) s$.send(e);
        build.then(
          () => s$.close(),
          (err: unknown) => {
            const e = apiError(err, c.get('requestId'));
            if (e.code === 'internal_error') c.get('logger')?.error({ err }, 'template build failed');
            s$.send({ type: 'error', error: { code: e.code, message: e.message, details: e.details } });
            s$.close();
          },
        );
      },
      {
        onDrain: () => {
          for (const resume of drained) resume();
        },
        onCancel: () => abort.abort(),
      },
    );
    return streamed(new Response(stream, { status: 200, headers: ndjsonHeaders() }));
  });
}

function registerPrepareRoute(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(prepareRoute, async (c) => {
    const { name } = c.req.valid('param');
    const tenant = c.get('principal').tenant;
    const decide = <T>(work: () => Promise<T>) => s.govern(c, { action: 'template.get', resource: `template:${name}` }, work);
    // A template that exists (or a name the daemon does not carry) is looked up before any stream: a 404 stays a 404.
    if (!s.builtInTemplates.carries(name) || s.builtInTemplates.built(name, tenant)) {
      const template = await decide(async () => s.templates.get(name, tenant));
      return streamed(new Response(`${JSON.stringify({ type: 'done', template })}\n`, { status: 200, headers: ndjsonHeaders() }));
    }
    // Decided while the handler runs, as a build is: the decision may set headers on this response, too late once it streams.
    let sink: NdjsonSink | undefined;
    const early: unknown[] = [];
    const ready = decide(async () => {
      await s.builtInTemplates.ensure(name, tenant, (e) => (sink ? sink.send(e) : early.push(e)));
      return s.templates.get(name, tenant);
    });
    ready.catch(() => {});
    const stream = ndjsonStream((started) => {
      sink = started;
      for (const e of early) started.send(e);
      ready.then(
        (template) => {
          started.send({ type: 'done', template });
          started.close();
        },
        (err: unknown) => {
          const e = apiError(err, c.get('requestId'));
          if (e.code === 'internal_error') c.get('logger')?.error({ err }, 'preparing a template failed');
          started.send({ type: 'error', error: { code: e.code, message: e.message, details: e.details } });
          started.close();
        },
      );
    });
    return streamed(new Response(stream, { status: 200, headers: ndjsonHeaders() }));
  });
}

function callerOf(p: Principal): TemplateCaller {
  return { tenant: p.tenant, admin: p.role === 'admin' };
}
