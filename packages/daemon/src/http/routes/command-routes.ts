import { createHash } from 'node:crypto';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  type CommandResult,
  type CommandStart,
  CommandStartSchema,
  canonicalJson,
  formatDuration,
  ProcessSignalSchema,
  ProcessStdinSchema,
  processWaitBounds,
  TimeoutError,
} from '@paddock/core';
import type { ManagedProcess, ProcessEvent, ProcessSubscriber } from '../../commands/process-manager.js';
import { assessCommand } from '../../policy/command-risk.js';
import type { SandboxRecord } from '../../store/sandbox-store.js';
import { type Action, type Caller, callerOf } from '../governed.js';
import type { HttpEnv } from '../http-env.js';
import { type NdjsonSink, ndjsonHeaders, ndjsonStream, streamed } from '../ndjson.js';
import { CommandResultResponse, errorResponses, json, ProcessInfoResponse, ProcessParams, SandboxIdParams } from '../schemas.js';
import type { Services } from '../services.js';

const tags = ['commands'];
const ProcessStartSchema = CommandStartSchema.extend({
  openStdin: z.boolean().optional().describe('keep stdin open for the stdin endpoint or attach; otherwise it is closed at once'),
}).openapi('ProcessStart');

const execRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/exec',
  tags,
  summary: 'Run a command and wait for it',
  description:
    'Returns the result as JSON, or, with `Accept: application/x-ndjson`, streams events as they happen: ' +
    '{"type":"start","pid"}, {"type":"stdout"|"stderr","data":<base64>}, {"type":"exit","result"}. ' +
    'If the client goes away before the command ends, the command is killed.',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: CommandStartSchema.meta({ id: 'CommandStart' }) } }, required: true } },
  responses: {
    200: {
      description: 'the command result (JSON) or its event stream (NDJSON)',
      content: { 'application/json': { schema: CommandResultResponse }, 'application/x-ndjson': { schema: z.string() } },
    },
    ...errorResponses,
  },
});

const startRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/processes',
  tags,
  summary: 'Start a command in the background',
  request: { params: SandboxIdParams, body: { content: { 'application/json': { schema: ProcessStartSchema } }, required: true } },
  responses: { 201: json(ProcessInfoResponse, 'the started process'), ...errorResponses },
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/processes',
  tags,
  summary: 'List processes started through the API (running and recently exited)',
  request: { params: SandboxIdParams },
  responses: { 200: json(z.object({ processes: z.array(ProcessInfoResponse) }), 'processes'), ...errorResponses },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/processes/{pid}',
  tags,
  summary: 'Inspect a process',
  request: { params: ProcessParams },
  responses: { 200: json(ProcessInfoResponse, 'the process'), ...errorResponses },
});

const waitRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/processes/{pid}/wait',
  tags,
  summary: 'Wait for a process to exit and return its result',
  description:
    'With timeoutMs, answers 504 wait_timeout if the process is still running by then; the process goes on (the timeout bounds the wait, not the command).',
  request: {
    params: ProcessParams,
    query: z.object({
      timeoutMs: z.coerce.number().int().min(processWaitBounds.min).max(processWaitBounds.max).optional().describe('give up waiting after this long'),
    }),
  },
  responses: { 200: json(CommandResultResponse, 'the result'), ...errorResponses },
});

const outputRoute = createRoute({
  method: 'get',
  path: '/v1/sandboxes/{id}/processes/{pid}/output',
  tags,
  summary: 'Output of a process as NDJSON events; with follow=true, stays open until it exits',
  description:
    'Events: {"type":"dropped","stream","bytes"} first when older output of a stream is no longer kept (beyond the last MiB the ' +
    'daemon keeps, or the last MiB the sandbox agent keeps while no daemon listens), then {"type":"stdout"|"stderr","data":<base64>}, ' +
    'then {"type":"exit","result"} once it ended.',
  request: { params: ProcessParams, query: z.object({ follow: z.enum(['true', 'false', '1', '0']).optional() }) },
  responses: { 200: { description: 'NDJSON events', content: { 'application/x-ndjson': { schema: z.string() } } }, ...errorResponses },
});

const signalRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/processes/{pid}/signal',
  tags,
  summary: "Send a signal to a process's group (default SIGKILL)",
  request: { params: ProcessParams, body: { content: { 'application/json': { schema: ProcessSignalSchema } }, required: false } },
  responses: { 200: json(ProcessInfoResponse, 'the process'), ...errorResponses },
});

const stdinRoute = createRoute({
  method: 'post',
  path: '/v1/sandboxes/{id}/processes/{pid}/stdin',
  tags,
  summary: 'Write to the stdin of a process started with openStdin',
  request: { params: ProcessParams, body: { content: { 'application/json': { schema: ProcessStdinSchema } }, required: true } },
  responses: { 200: json(ProcessInfoResponse, 'the process'), ...errorResponses },
});

export function registerCommandRoutes(app: OpenAPIHono<HttpEnv>, s: Services): void {
  app.openapi(execRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const streaming = (c.req.header('accept') ?? '').includes('application/x-ndjson');
    if (!streaming) return c.json(await execToExit(s, callerOf(c), id, body), 200);
    const owner = c.get('principal').tenant;
    return s.govern(c, execAction(s, owner, id, body), async (checked) => {
      const sandbox = checked ?? s.sandboxes.requireRunning(owner, id);
      let proc: ManagedProcess | undefined;
      let subscriber: ProcessSubscriber | undefined;
      const body$ = ndjsonStream(
        (sink) => {
          subscriber = streamTo(sink);
        },
        {
          onDrain: () => subscriber && proc?.unblock(subscriber),
          onCancel: () => {
            if (subscriber) proc?.unsubscribe(subscriber);
            proc?.signal('SIGKILL');
          },
        },
      );
      proc = await s.processes.start(sandbox, body, { subscriber, signal: c.get('signal') });
      return streamed(new Response(prepend(body$, { type: 'start', pid: proc.pid }), { status: 200, headers: ndjsonHeaders() }));
    });
  });

  app.openapi(startRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { openStdin, ...body } = c.req.valid('json');
    const owner = c.get('principal').tenant;
    const proc = await s.govern(
      c,
      {
        action: 'sandbox.exec',
        resource: `sandbox:${id}`,
        context: { ...execContext(body), background: true },
        precheck: () => s.sandboxes.requireRunning(owner, id),
      },
      async (checked) => s.processes.start(checked ?? s.sandboxes.requireRunning(owner, id), body, { keepStdinOpen: openStdin }),
    );
    return c.json(proc.info(), 201);
  });

  app.openapi(listRoute, async (c) => {
    const { id } = c.req.valid('param');
    const processes = await s.govern(c, { action: 'sandbox.process.list', resource: `sandbox:${id}` }, async () => {
      s.sandboxes.requireRunning(c.get('principal').tenant, id);
      return s.processes.list(id);
    });
    return c.json({ processes }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { id, pid } = c.req.valid('param');
    const proc = await s.govern(c, { action: 'sandbox.process.get', resource: `sandbox:${id}`, context: { pid } }, async () =>
      findProcess(s, c.get('principal').tenant, id, pid),
    );
    return c.json(proc.info(), 200);
  });

  app.openapi(waitRoute, async (c) => {
    const { id, pid } = c.req.valid('param');
    const proc = await s.govern(c, { action: 'sandbox.process.get', resource: `sandbox:${id}`, context: { pid } }, async () =>
      findProcess(s, c.get('principal').tenant, id, pid),
    );
    const { timeoutMs } = c.req.valid('query');
    if (timeoutMs !== undefined && !(await exitsWithin(proc, timeoutMs))) {
      throw new TimeoutError(
        `process ${pid} is still running after ${formatDuration(timeoutMs)}: the wait timed out, the command goes on`,
        { id, pid, waitedMs: timeoutMs },
        'wait_timeout',
      );
    }
    await proc.done;
    return c.json(proc.result(), 200);
  });

  app.openapi(outputRoute, async (c) => {
    const { id, pid } = c.req.valid('param');
    const follow = ['true', '1'].includes(c.req.valid('query').follow ?? 'false');
    const proc = await s.govern(c, { action: 'sandbox.process.output', resource: `sandbox:${id}`, context: { pid, follow } }, async () =>
      findProcess(s, c.get('principal').tenant, id, pid),
    );
    let unsubscribe = () => {};
    let subscriber: ProcessSubscriber | undefined;
    const stream = ndjsonStream(
      (sink) => {
        subscriber = streamTo(sink);
        for (const [stream, tail] of [['stdout', proc.stdout] as const, ['stderr', proc.stderr] as const]) {
          if (tail.dropped > 0) sink.send({ type: 'dropped', stream, bytes: tail.dropped });
        }
        unsubscribe = proc.subscribe(subscriber);
        if (!follow && !proc.exit) {
          unsubscribe();
          sink.close();
        }
      },
      { onDrain: () => subscriber && proc.unblock(subscriber), onCancel: () => unsubscribe() },
    );
    return streamed(new Response(stream, { status: 200, headers: ndjsonHeaders() }));
  });

  app.openapi(signalRoute, async (c) => {
    const { id, pid } = c.req.valid('param');
    const body = (c.req.valid('json') as { signal?: string } | undefined) ?? {};
    const signal = body.signal ?? 'SIGKILL';
    const proc = await s.govern(c, { action: 'sandbox.process.signal', resource: `sandbox:${id}`, context: { pid, signal } }, async () => {
      const p = findProcess(s, c.get('principal').tenant, id, pid);
      s.takeovers.requireWriter(c.get('principal'), id, pid);
      p.signal(signal);
      return p;
    });
    return c.json(proc.info(), 200);
  });

  app.openapi(stdinRoute, async (c) => {
    const { id, pid } = c.req.valid('param');
    const { data, eof } = c.req.valid('json');
    const proc = await s.govern(c, { action: 'sandbox.process.stdin', resource: `sandbox:${id}`, context: { pid, bytes: data.length, eof } }, async () => {
      const p = findProcess(s, c.get('principal').tenant, id, pid);
      s.takeovers.requireWriter(c.get('principal'), id, pid);
      if (data) await p.write(data);
      if (eof) p.closeStdin();
      return p;
    });
    return c.json(proc.info(), 200);
  });
}

/** What POST …/exec asks the policy about: one sandbox.exec of this command in sandbox `id`, which must be running. */
function execAction(s: Services, owner: string, id: string, body: CommandStart): Action<SandboxRecord> {
  return { action: 'sandbox.exec', resource: `sandbox:${id}`, context: execContext(body), precheck: () => s.sandboxes.requireRunning(owner, id) };
}

/**
 * Runs a command to its end as `caller` (one decision, one audit record) and
 * returns its result: POST …/exec answered with JSON, and run_command of the
 * daemon's MCP sessions. The command is killed if the caller goes away.
 */
export function execToExit(s: Services, caller: Caller, id: string, body: CommandStart): Promise<CommandResult> {
  const owner = caller.principal.tenant;
  return s.governAs(caller, execAction(s, owner, id, body), async (checked) => {
    const sandbox = checked ?? s.sandboxes.requireRunning(owner, id);
    const signal = caller.signal;
    const proc = await s.processes.start(sandbox, body, { signal });
    const onAbort = () => proc.signal('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    await proc.done;
    signal.removeEventListener('abort', onAbort);
    return proc.result();
  });
}

async function exitsWithin(proc: ManagedProcess, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([proc.done.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function findProcess(s: Services, owner: string, id: string, pid: number): ManagedProcess {
  s.sandboxes.requireRunning(owner, id);
  return s.processes.get(id, pid);
}

/** Forwards process events to an NDJSON response, ending it at the exit event. */
function streamTo(sink: NdjsonSink): ProcessSubscriber {
  return {
    push(e) {
      const more = sink.send(toWire(e));
      if (e.type === 'exit') sink.close();
      return more;
    },
  };
}

function toWire(e: ProcessEvent): unknown {
  return e.type === 'exit' ? e : { type: e.type, data: e.data.toString('base64') };
}

/** Puts one event in front of a stream (the start event, known only once the process runs). */
function prepend(stream: ReadableStream<Uint8Array>, first: unknown): ReadableStream<Uint8Array> {
  const head = new TextEncoder().encode(`${JSON.stringify(first)}\n`);
  const reader = stream.getReader();
  let sentHead = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(head);
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * What policy, approvals and the audit see of a command: its argv and user,
 * the risk of a script fed to a shell on stdin, and a digest of the whole
 * request, so an approval covers exactly that request (env, cwd, stdin …).
 */
export function execContext(body: { cmd: string[]; user?: string; stdin?: string } & Record<string, unknown>): Record<string, unknown> {
  const program = body.cmd[0]?.split('/').at(-1) ?? '';
  const stdinRisk = body.stdin && scriptReaders.has(program) ? assessCommand(['sh', '-c', body.stdin]) : undefined;
  return {
    cmd: body.cmd,
    user: body.user ?? 'root',
    requestDigest: createHash('sha256').update(canonicalJson(body)).digest('hex'),
    ...(stdinRisk && stdinRisk.score > 0 ? { stdinRisk: { score: stdinRisk.score, tags: stdinRisk.tags } } : {}),
  };
}

/** Programs that run what they read on stdin as a script. */
const scriptReaders = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh']);
