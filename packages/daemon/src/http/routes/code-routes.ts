import { createHash } from 'node:crypto';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  type CodeContextCreate,
  CodeContextCreateSchema,
  CodeContextSchema,
  type CodeError,
  type CodeLanguage,
  type CodeResult,
  type CodeRunEvent,
  type CodeRunResult,
  CodeRunResultSchema,
  CodeRunSchema,
} from '@paddock/core';
import { assessCode } from '../../policy/code-risk.js';
import type { HttpEnv } from '../http-env.js';
import { ndjsonHeaders, ndjsonStream, streamed } from '../ndjson.js';
import { errorResponses, json, SandboxIdParams } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['code'];
const CodeContextResponse = CodeContextSchema.meta({ id: 'CodeContext' });
const ContextParams = SandboxIdParams.extend({
  contextId: z
    .string()
    .max(64)
    .openapi({ param: { name: 'contextId', in: 'path' }, example: 'ctx-3kd8Zq0aLm1x' }),
});

const createContextRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/code/contexts',
  tags,
  summary: 'Start a code context: a kernel of its own, its state kept between runs',
  request: {
    params: SandboxIdParams,
    body: { content: { 'application/json': { schema: CodeContextCreateSchema.meta({ id: 'CodeContextCreate' }) } }, required: false },
  },
  responses: { 201: json(CodeContextResponse, 'the context'), ...errorResponses },
});

const listContextsRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/code/contexts',
  tags,
  summary: "List a sandbox's code contexts",
  request: { params: SandboxIdParams },
  responses: { 200: json(z.object({ contexts: z.array(CodeContextResponse) }), 'contexts'), ...errorResponses },
});

const deleteContextRoute = createRoute({
  method: 'delete',
  path: '/v1/sandboxes/{id}/code/contexts/{contextId}',
  tags,
  summary: 'Shut a code context down',
  request: { params: ContextParams },
  responses: { 200: json(z.object({ removed: z.string() }), 'removed'), ...errorResponses },
});

const restartContextRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/code/contexts/{contextId}/restart',
  tags,
  summary: 'Restart the kernel of a context (its state is lost); brings back a kernel that died',
  request: { params: ContextParams },
  responses: { 200: json(CodeContextResponse, 'the context'), ...errorResponses },
});

const interruptContextRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/code/contexts/{contextId}/interrupt',
  tags,
  summary: 'Interrupt the cell a context runs; the kernel keeps its state',
  request: { params: ContextParams },
  responses: { 200: json(CodeContextResponse, 'the context'), ...errorResponses },
});

const runRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/code/run',
  tags,
  summary: 'Run a cell of code in a context',
  description:
    "Runs in contextId, or in the sandbox's default context of the language (started on first use). Returns the collected result as JSON, " +
    'or, with `Accept: application/x-ndjson`, streams events as they come: {"type":"start","contextId"}, {"type":"stdout"|"stderr","text"}, ' +
    '{"type":"result","result"}, {"type":"error","error"}, then {"type":"end","executionCount","timedOut","kernelDied","truncated"}. ' +
    'A cell past timeoutMs is interrupted (timedOut: true) and the kernel keeps its state; if the client goes away, the cell is interrupted.',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: CodeRunSchema.meta({ id: 'CodeRun' }) } }, required: true } },
  responses: {
    200: {
      description: 'the collected result (JSON) or its event stream (NDJSON)',
      content: { 'application/json': { schema: CodeRunResultSchema.meta({ id: 'CodeRunResult' }) }, 'application/x-ndjson': { schema: z.string() } },
    },
    ...errorResponses,
  },
});

export function registerCodeRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  const manage = (c: Parameters<Services['govern']>[0], id: string, op: string, contextId?: string) => ({
    action: 'sandbox.code.context',
    resource: `sandbox:${id}`,
    context: { op, ...(contextId ? { contextId } : {}) },
    precheck: () => s.sandboxes.requireRunning(c.get('principal').tenant, id),
  });

  app.openapi(createContextRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = (c.req.valid('json') as CodeContextCreate | undefined) ?? {};
    const created = await s.govern(c, { ...manage(c, id, 'create'), context: { op: 'create', language: body.language ?? 'python' } }, async () =>
      s.code.create(s.sandboxes.requireRunning(c.get('principal').tenant, id), body, { signal: c.get('signal') }),
    );
    return c.json(created, 201);
  });

  app.openapi(listContextsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const contexts = await s.govern(c, manage(c, id, 'list'), async () => s.code.list(id));
    return c.json({ contexts }, 200);
  });

  app.openapi(deleteContextRoute, async (c) => {
    const { id, contextId } = c.req.valid('param');
    await s.govern(c, manage(c, id, 'delete', contextId), async () => s.code.remove(id, contextId));
    return c.json({ removed: contextId }, 200);
  });

  app.openapi(restartContextRoute, async (c) => {
    const { id, contextId } = c.req.valid('param');
    const ctx = await s.govern(c, manage(c, id, 'restart', contextId), async () =>
      s.code.restart(s.sandboxes.requireRunning(c.get('principal').tenant, id), contextId),
    );
    return c.json(ctx, 200);
  });

  app.openapi(interruptContextRoute, async (c) => {
    const { id, contextId } = c.req.valid('param');
    const ctx = await s.govern(c, manage(c, id, 'interrupt', contextId), async () => s.code.interrupt(id, contextId));
    return c.json(ctx, 200);
  });

  app.openapi(runRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const owner = c.get('principal').tenant;
    const streaming = (c.req.header('accept') ?? '').includes('application/x-ndjson');
    const precheck = () => s.sandboxes.requireRunning(owner, id);
    // A named context's own language is what the cell runs in (and is scored as), whatever the body says.
    const language = (body.contextId ? s.code.languageOf(id, body.contextId) : undefined) ?? body.language ?? 'python';
    return s.govern(c, { action: 'code.run', resource: `sandbox:${id}`, context: runContext(body, language), precheck }, async () => {
      const sandbox = s.sandboxes.requireRunning(owner, id);
      const contextId = await s.code.resolve(sandbox, body, c.get('signal'));
      if (!streaming) {
        const collected = collector(contextId);
        const end = await s.code.run(id, contextId, body, collected.emit, c.get('signal'));
        return c.json({ ...collected.result, ...end, truncated: end.truncated || collected.result.truncated }, 200);
      }
      s.code.requireAlive(id, contextId);
      const cancel = new AbortController();
      const body$ = ndjsonStream(
        (sink) => {
          sink.send({ type: 'start', contextId } satisfies CodeRunEvent);
          s.code
            .run(id, contextId, body, (e) => void sink.send(e), cancel.signal)
            .then(
              (end) => sink.send({ type: 'end', ...end } satisfies CodeRunEvent),
              (err) => sink.send({ type: 'end', executionCount: null, timedOut: false, kernelDied: err?.code === 'kernel_dead', truncated: false }),
            )
            .finally(() => sink.close());
        },
        { onCancel: () => cancel.abort() },
      );
      return streamed(new Response(body$, { status: 200, headers: ndjsonHeaders() }));
    });
  });
}

/** What policy and approvals see of a cell (the code itself too); the audit log keeps the digest and a summary instead of the code. */
export function runContext(body: { code: string; contextId?: string }, language: CodeLanguage): Record<string, unknown> {
  const risk = assessCode(body.code, language);
  return {
    code: body.code,
    language,
    ...(body.contextId ? { contextId: body.contextId } : {}),
    codeDigest: createHash('sha256').update(body.code).digest('hex'),
    codeSummary: summarize(body.code),
    risk: risk.score,
    riskTags: risk.tags,
    ...(risk.reasons.length ? { riskReasons: risk.reasons } : {}),
  };
}

/** The first line of a cell and its size, enough for a person reading the log to tell cells apart. */
function summarize(code: string): string {
  const lines = code.split('\n');
  const first = (lines.find((l) => l.trim()) ?? '').trim().slice(0, 120);
  return `${first}${lines.length > 1 ? ` (+${lines.length - 1} lines)` : ''} [${code.length} chars]`;
}

/** Gathers a cell's events into the JSON answer. */
function collector(contextId: string) {
  const results: CodeResult[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const result: { contextId: string; results: CodeResult[]; error: CodeError | null; truncated: boolean; readonly logs: CodeRunResult['logs'] } = {
    contextId,
    results,
    error: null,
    truncated: false,
    get logs() {
      return { stdout: stdout.join(''), stderr: stderr.join('') };
    },
  };
  const emit = (e: CodeRunEvent) => {
    if (e.type === 'stdout') stdout.push(e.text);
    else if (e.type === 'stderr') stderr.push(e.text);
    else if (e.type === 'result') results.push(e.result);
    else if (e.type === 'error') result.error = e.error;
  };
  return { emit, result };
}
