import {
  BadRequestError,
  type CodeContext,
  type CodeLanguage,
  CodeLanguageSchema,
  type CodeResult,
  type CodeRunEvent,
  NotFoundError,
  type PaddockError,
} from '@paddock/core';
import type { Context } from 'hono';
import type { HttpEnv } from '../../http/http-env.js';
import { runContext } from '../../http/routes/code-routes.js';
import { limitedBody } from '../../http/routes/file-routes.js';
import type { Services } from '../../http/services.js';
import { absolutePath, type EnvdCall, runningSandbox } from './envd-call.js';

/** A cell's code, as the native run bounds it. */
const maxCodeChars = 1_048_576;

/**
 * What `@e2b/code-interpreter` calls on port 49999, served by Paddock's code
 * interpreter: `POST /execute` streams a cell's output as the SDK's NDJSON
 * lines (stdout, stderr, result with its MIME types, error,
 * number_of_executions), and `/contexts` makes, lists, restarts and removes
 * kernels. Each is the governed action of its native route (`code.run`,
 * `sandbox.code.context` with its op).
 */
export async function serveCodeInterpreter(s: Services, c: Context<HttpEnv>, call: EnvdCall): Promise<Response> {
  const path = c.req.path;
  const method = c.req.method;
  if (method === 'POST' && path === '/execute') return execute(s, c, call);
  if (path === '/contexts' && method === 'POST') return createContext(s, c, call);
  if (path === '/contexts' && method === 'GET') {
    const contexts = await s.govern(c, manage(s, call, 'list'), async () => s.code.list(call.sandboxId));
    return c.json(contexts.map(wireContext), 200);
  }
  const one = /^\/contexts\/([A-Za-z0-9_.-]{1,64})(\/restart)?$/.exec(path);
  if (one) {
    const id = one[1] as string;
    if (method === 'DELETE' && !one[2]) {
      await s.govern(c, manage(s, call, 'delete', id), async () => s.code.remove(call.sandboxId, id));
      return c.body(null, 204);
    }
    if (method === 'POST' && one[2]) {
      const ctx = await s.govern(c, manage(s, call, 'restart', id), async () => s.code.restart(runningSandbox(s, call), id));
      return c.json(wireContext(ctx), 200);
    }
  }
  throw new NotFoundError(`no code-interpreter route for ${method} ${path}`, {}, 'route_not_found');
}

function manage(s: Services, call: EnvdCall, op: string, contextId?: string) {
  return {
    action: 'sandbox.code.context',
    resource: `sandbox:${call.sandboxId}`,
    context: { op, ...(contextId ? { contextId } : {}) },
    precheck: () => runningSandbox(s, call),
  };
}

async function createContext(s: Services, c: Context<HttpEnv>, call: EnvdCall): Promise<Response> {
  const body = (await jsonOf(s, c)) as { language?: unknown; cwd?: unknown };
  const language = languageOf(body.language);
  const sandbox = runningSandbox(s, call);
  const cwd = typeof body.cwd === 'string' && body.cwd ? absolutePath(body.cwd, call.user, sandbox) : undefined;
  const created = await s.govern(c, { ...manage(s, call, 'create'), context: { op: 'create', language } }, async () =>
    s.code.create(runningSandbox(s, call), { language, ...(cwd ? { cwd } : {}) }, { signal: c.get('signal') }),
  );
  return c.json(wireContext(created), 200);
}

async function execute(s: Services, c: Context<HttpEnv>, call: EnvdCall): Promise<Response> {
  const body = (await jsonOf(s, c)) as { code?: unknown; context_id?: unknown; language?: unknown; env_vars?: unknown };
  if (typeof body.code !== 'string') throw new BadRequestError('"code" is a string', {}, 'bad_request');
  if (body.code.length > maxCodeChars) throw new BadRequestError(`a cell is at most ${maxCodeChars} characters`, {}, 'bad_request');
  if (body.env_vars && typeof body.env_vars === 'object' && Object.keys(body.env_vars).length > 0) {
    throw new BadRequestError("per-run environment variables (envs) are not supported by Paddock's code interpreter; set them in the code", {}, 'bad_request');
  }
  const contextId = typeof body.context_id === 'string' && body.context_id ? body.context_id : undefined;
  const run = { code: body.code, ...(contextId ? { contextId } : {}), ...(body.language ? { language: languageOf(body.language) } : {}) };
  return s.govern(
    c,
    {
      action: 'code.run',
      resource: `sandbox:${call.sandboxId}`,
      context: runContext(run, (contextId ? s.code.languageOf(call.sandboxId, contextId) : undefined) ?? run.language ?? 'python'),
      precheck: () => runningSandbox(s, call),
    },
    async () => {
      const sandbox = runningSandbox(s, call);
      const id = await s.code.resolve(sandbox, run, c.get('signal'));
      s.code.requireAlive(call.sandboxId, id);
      const cancel = new AbortController();
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          const send = (line: unknown) => {
            try {
              controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
            } catch {
              // The client went away; the cell is interrupted through `cancel`.
            }
          };
          s.code
            .run(
              call.sandboxId,
              id,
              run,
              (e) => {
                const line = wireEvent(e);
                if (line) send(line);
              },
              cancel.signal,
            )
            .then(
              (end) => {
                if (end.executionCount !== null) send({ type: 'number_of_executions', execution_count: end.executionCount });
                if (end.timedOut) send({ type: 'error', name: 'TimeoutError', value: 'the cell ran past its timeout and was interrupted', traceback: '' });
                else if (end.kernelDied) send({ type: 'error', name: 'KernelDied', value: 'the kernel died; restart the context', traceback: '' });
              },
              (err: PaddockError) => send({ type: 'error', name: err.code ?? 'Error', value: err.message ?? 'the cell failed', traceback: '' }),
            )
            .finally(() => {
              try {
                controller.close();
              } catch {
                // Already cancelled.
              }
            });
        },
        cancel() {
          cancel.abort();
        },
      });
      return new Response(stream, { status: 200, headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' } });
    },
  );
}

/** A Paddock cell event as the SDK's line; the start and end events have none of their own. */
function wireEvent(e: CodeRunEvent): Record<string, unknown> | undefined {
  const timestamp = new Date().toISOString();
  if (e.type === 'stdout' || e.type === 'stderr') return { type: e.type, text: e.text, timestamp };
  if (e.type === 'error') return { type: 'error', name: e.error.name, value: e.error.value, traceback: e.error.traceback };
  if (e.type === 'result') return wireResult(e.result);
  return undefined;
}

function wireResult(r: CodeResult): Record<string, unknown> {
  const { isMainResult, table, truncated: _truncated, ...formats } = r;
  return { type: 'result', ...formats, ...(table !== undefined ? { data: table } : {}), is_main_result: isMainResult };
}

function wireContext(ctx: CodeContext): { id: string; language: string; cwd: string } {
  return { id: ctx.id, language: ctx.language, cwd: ctx.cwd ?? '' };
}

/** E2B's language names onto ours ("js" is E2B's short name for JavaScript). */
function languageOf(value: unknown): CodeLanguage {
  if (value === undefined || value === null || value === '') return 'python';
  const parsed = CodeLanguageSchema.safeParse(value === 'js' ? 'javascript' : value);
  if (!parsed.success) {
    throw new BadRequestError(`language ${JSON.stringify(value)} is not served (python, javascript and bash are)`, { language: String(value) }, 'bad_request');
  }
  return parsed.data;
}

async function jsonOf(s: Services, c: Context<HttpEnv>): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of limitedBody(c, s.limits.maxJsonBytes)) chunks.push(chunk);
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (!value || typeof value !== 'object') throw new Error('not an object');
    return value;
  } catch {
    throw new BadRequestError('the body is a JSON object', {}, 'bad_request');
  }
}
