import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { BadRequestError, type CommandStart, CommandStartSchema, commandTimeoutBounds } from '@paddock/core';
import type { ManagedProcess, ProcessEvent as PaddockEvent, ProcessSubscriber } from '../../commands/process-manager.js';
import { execContext } from '../../http/routes/command-routes.js';
import type { Services } from '../../http/services.js';
import { absolutePath, callOf, connectCall, type EnvdCall, homeOf, runningSandbox } from './envd-call.js';
import { EventQueue, keepAliveMs } from './event-queue.js';
import {
  type ConnectResponse,
  ConnectResponseSchema,
  type Process,
  type ProcessEvent,
  ProcessEventSchema,
  type ProcessSelector,
  Signal,
  type StartResponse,
  StartResponseSchema,
} from './gen/process/process_pb.js';

/** Tags the SDKs give processes (to find them again), per sandbox and pid; bounded like the processes themselves. */
const maxTags = 1000;

/**
 * envd's process service over Paddock's processes: every call is the
 * governed action its native route is (start = sandbox.exec with the same
 * context, input = sandbox.process.stdin, signal = sandbox.process.signal …),
 * and the output streams from the same process manager, flushed as it comes.
 */
export function processService(s: Services): Partial<ServiceImpl<typeof Process>> {
  const tags = new Map<string, string>();
  const tagOf = (sandboxId: string, pid: number) => tags.get(`${sandboxId}:${pid}`);

  const find = (call: EnvdCall, selector: ProcessSelector | undefined): ManagedProcess => {
    runningSandbox(s, call);
    const sel = selector?.selector;
    if (sel?.case === 'pid') return s.processes.get(call.sandboxId, sel.value);
    if (sel?.case === 'tag') {
      for (const [key, tag] of tags) {
        const [id, pid] = key.split(':');
        if (id === call.sandboxId && tag === sel.value) return s.processes.get(call.sandboxId, Number(pid));
      }
      throw new ConnectError(`no process tagged ${sel.value}`, Code.NotFound);
    }
    throw new ConnectError('name a process by pid or tag', Code.InvalidArgument);
  };

  return {
    async *start(req, ctx): AsyncGenerator<StartResponse> {
      const call = callOf(ctx);
      // Root's and user's home need no read of the sandbox: one that is gone is refused by govern's precheck, with its deny record, as on the native route.
      const body = await connectCall(async () => commandOf(req, call, ctx, () => runningSandbox(s, call)));
      const stream = outputStream(ctx, Boolean(body.pty));
      const resource = `sandbox:${call.sandboxId}`;
      const proc = await connectCall(() =>
        s.govern(call.c, { action: 'sandbox.exec', resource, context: execContext(body), precheck: () => runningSandbox(s, call) }, () =>
          s.processes.start(runningSandbox(s, call), body, { subscriber: stream.subscriber, keepStdinOpen: req.stdin === true }),
        ),
      );
      stream.bind(proc);
      if (req.tag) {
        tags.set(`${call.sandboxId}:${proc.pid}`, req.tag);
        if (tags.size > maxTags) tags.delete(tags.keys().next().value as string);
      }
      yield create(StartResponseSchema, { event: startEvent(proc.pid) });
      for await (const event of stream.events()) yield create(StartResponseSchema, { event });
    },

    async *connect(req, ctx): AsyncGenerator<ConnectResponse> {
      const call = callOf(ctx);
      const selector = req.process;
      const pidOf = selector?.selector.case === 'pid' ? { pid: selector.selector.value } : {};
      const proc = await connectCall(() =>
        s.govern(call.c, { action: 'sandbox.process.output', resource: `sandbox:${call.sandboxId}`, context: { ...pidOf, follow: true } }, async () =>
          find(call, selector),
        ),
      );
      const stream = outputStream(ctx, Boolean(proc.request.pty));
      stream.bind(proc);
      const unsubscribe = proc.subscribe(stream.subscriber, false);
      try {
        yield create(ConnectResponseSchema, { event: startEvent(proc.pid) });
        for await (const event of stream.events()) yield create(ConnectResponseSchema, { event });
      } finally {
        unsubscribe();
      }
    },

    async list(_req, ctx) {
      const call = callOf(ctx);
      const processes = await connectCall(() =>
        s.govern(call.c, { action: 'sandbox.process.list', resource: `sandbox:${call.sandboxId}` }, async () => {
          runningSandbox(s, call);
          return s.processes.list(call.sandboxId);
        }),
      );
      return {
        processes: processes
          .filter((p) => p.state === 'running')
          .map((p) => ({
            pid: p.pid,
            tag: tagOf(call.sandboxId, p.pid),
            config: { cmd: p.cmd[0] ?? '', args: p.cmd.slice(1), envs: {}, cwd: p.cwd ?? undefined },
          })),
      };
    },

    async sendInput(req, ctx) {
      const call = callOf(ctx);
      const input = req.input?.input;
      const data = input?.case === 'stdin' || input?.case === 'pty' ? Buffer.from(input.value) : Buffer.alloc(0);
      await writeInput(s, call, find, req.process, data, false);
      return {};
    },

    async streamInput(requests, ctx) {
      const call = callOf(ctx);
      let selector: ProcessSelector | undefined;
      for await (const req of requests) {
        if (req.event.case === 'start') selector = req.event.value.process;
        else if (req.event.case === 'data') {
          if (!selector) throw new ConnectError('the stream starts with a start event naming the process', Code.InvalidArgument);
          const input = req.event.value.input?.input;
          if (input?.case === 'stdin' || input?.case === 'pty') await writeInput(s, call, find, selector, Buffer.from(input.value), false);
        }
      }
      return {};
    },

    async closeStdin(req, ctx) {
      const call = callOf(ctx);
      await writeInput(s, call, find, req.process, Buffer.alloc(0), true);
      return {};
    },

    async sendSignal(req, ctx) {
      const call = callOf(ctx);
      const signal = req.signal === Signal.SIGTERM ? 'SIGTERM' : req.signal === Signal.SIGKILL ? 'SIGKILL' : undefined;
      if (!signal) throw new ConnectError('the signal is SIGTERM or SIGKILL', Code.InvalidArgument);
      const pid = req.process?.selector.case === 'pid' ? { pid: req.process.selector.value } : {};
      await connectCall(() =>
        s.govern(call.c, { action: 'sandbox.process.signal', resource: `sandbox:${call.sandboxId}`, context: { ...pid, signal } }, async () => {
          const proc = find(call, req.process);
          if (proc.exit) throw new ConnectError(`process ${proc.pid} has exited`, Code.NotFound);
          s.takeovers.requireWriter(call.c.get('principal'), call.sandboxId, proc.pid);
          proc.signal(signal);
        }),
      );
      return {};
    },

    async update(req, ctx) {
      const call = callOf(ctx);
      const size = req.pty?.size;
      if (!size) return {};
      const pid = req.process?.selector.case === 'pid' ? { pid: req.process.selector.value } : {};
      await connectCall(() =>
        s.govern(call.c, { action: 'sandbox.process.stdin', resource: `sandbox:${call.sandboxId}`, context: { ...pid, op: 'resize' } }, async () => {
          const proc = find(call, req.process);
          s.takeovers.requireWriter(call.c.get('principal'), call.sandboxId, proc.pid);
          proc.resize(Math.min(Math.max(size.cols, 1), 1000), Math.min(Math.max(size.rows, 1), 1000));
        }),
      );
      return {};
    },
  };
}

async function writeInput(
  s: Services,
  call: EnvdCall,
  find: (call: EnvdCall, selector: ProcessSelector | undefined) => ManagedProcess,
  selector: ProcessSelector | undefined,
  data: Buffer,
  eof: boolean,
): Promise<void> {
  const pid = selector?.selector.case === 'pid' ? { pid: selector.selector.value } : {};
  await connectCall(() =>
    s.govern(call.c, { action: 'sandbox.process.stdin', resource: `sandbox:${call.sandboxId}`, context: { ...pid, bytes: data.length, eof } }, async () => {
      const proc = find(call, selector);
      s.takeovers.requireWriter(call.c.get('principal'), call.sandboxId, proc.pid);
      if (data.length) await proc.write(data);
      if (eof) proc.closeStdin();
    }),
  );
}

/** envd's start request as Paddock's command: argv as given, cwd from the user's home, the stream's deadline as its timeout. */
function commandOf(
  req: { process?: { cmd: string; args: string[]; envs: Record<string, string>; cwd?: string }; pty?: { size?: { cols: number; rows: number } } },
  call: EnvdCall,
  ctx: HandlerContext,
  sandbox: Parameters<typeof homeOf>[1],
): CommandStart {
  const p = req.process;
  if (!p?.cmd) throw new BadRequestError('the process names no command', {}, 'bad_request');
  const timeoutMs = ctx.timeoutMs();
  const candidate = {
    cmd: [p.cmd, ...p.args],
    ...(Object.keys(p.envs).length ? { env: p.envs } : {}),
    cwd: p.cwd ? absolutePath(p.cwd, call.user, sandbox) : homeOf(call.user, sandbox),
    user: call.user,
    ...(req.pty?.size ? { pty: { cols: req.pty.size.cols || 80, rows: req.pty.size.rows || 24 } } : {}),
    ...(timeoutMs !== undefined && timeoutMs > 0 ? { timeoutMs: Math.min(Math.max(timeoutMs, commandTimeoutBounds.min), commandTimeoutBounds.max) } : {}),
  };
  const parsed = CommandStartSchema.safeParse(candidate);
  if (!parsed.success)
    throw new BadRequestError(`invalid process: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, {}, 'bad_request');
  return parsed.data;
}

function startEvent(pid: number): ProcessEvent {
  return create(ProcessEventSchema, { event: { case: 'start', value: { pid } } });
}

/**
 * A process's output as envd events. The subscriber exists before the
 * process starts (nothing is missed); a client that lags holds the process's
 * output back, and lets it go once it caught up. A client that goes away
 * leaves the process running (E2B's disconnect), a second client can attach.
 */
function outputStream(ctx: HandlerContext, pty: boolean) {
  let proc: ManagedProcess | undefined;
  let subscriber: ProcessSubscriber;
  const queue = new EventQueue<PaddockEvent | 'keepalive'>({
    keepAlive: { ms: keepAliveMs(ctx.requestHeader.get('keepalive-ping-interval')) || 50_000, event: () => 'keepalive' },
    onDrain: () => proc?.unblock(subscriber),
    sizeOf: (e) => (e !== 'keepalive' && e.type !== 'exit' ? e.data.length : 0),
  });
  subscriber = { push: (e) => queue.push(e) };
  return {
    subscriber,
    bind(p: ManagedProcess) {
      proc = p;
    },
    async *events(): AsyncGenerator<ProcessEvent> {
      try {
        for await (const e of queue.drain(ctx.signal)) {
          if (e === 'keepalive') {
            yield create(ProcessEventSchema, { event: { case: 'keepalive', value: {} } });
            continue;
          }
          if (e.type === 'exit') {
            const status = e.result.signal ? `signal: ${e.result.signal}` : `exit status ${e.result.exitCode}`;
            const error = e.result.timedOut ? 'the command ran past its timeout and was killed' : e.result.exitCode !== 0 ? status : undefined;
            yield create(ProcessEventSchema, { event: { case: 'end', value: { exitCode: e.result.exitCode, exited: true, status, error } } });
            return;
          }
          const output = pty ? ('pty' as const) : e.type;
          yield create(ProcessEventSchema, { event: { case: 'data', value: { output: { case: output, value: e.data } } } });
        }
      } finally {
        proc?.unsubscribe(subscriber);
      }
    },
  };
}
