import { randomBytes } from 'node:crypto';
import {
  BadRequestError,
  type CodeContext,
  type CodeContextCreate,
  type CodeError,
  type CodeLanguage,
  type CodeResult,
  type CodeRun,
  type CodeRunEnd,
  type CodeRunEvent,
  ConflictError,
  defaultCodeTimeoutMs,
  NotFoundError,
  ProcessNotFoundError,
  TimeoutError,
} from '@paddock/core';
import type { Logger } from 'pino';
import type { ManagedProcess, ProcessEvent, ProcessManager, ProcessSubscriber } from '../commands/process-manager.js';
import type { SandboxRecord } from '../store/sandbox-store.js';
import { BoundedLines } from './bounded-lines.js';
import { codeDriverSource } from './code-driver-source.js';
import { type DriverMessage, DriverMessageSchema } from './driver-messages.js';
import { bashChildSource, javascriptChildSource, pipeKernelSource } from './pipe-kernel-source.js';

export interface CodeLimits {
  /** The longest driver line read; longer ones are dropped whole. */
  maxLineBytes: number;
  /** Text of stdout and of stderr passed on per cell; the rest is dropped and the cell marked truncated. */
  maxStreamBytes: number;
  /** Rich results passed on per cell, in total. */
  maxResultBytes: number;
  /** How long a new kernel may take to answer. */
  startTimeoutMs: number;
}

const defaultLimits: CodeLimits = {
  maxLineBytes: 16 * 1024 * 1024,
  maxStreamBytes: 8 * 1024 * 1024,
  maxResultBytes: 64 * 1024 * 1024,
  startTimeoutMs: 90_000,
};

export interface CodeServiceDeps {
  processes: ProcessManager;
  logger?: Logger;
  limits?: Partial<CodeLimits>;
}

/** What a driver line or its end means to whoever waits on the context. */
type DriverSignal = DriverMessage | { t: 'exit' };

/** The driver asks no shell: python3 reads the driver's source as the first line of its stdin. */
const bootstrap = "import sys,json;exec(compile(json.loads(sys.stdin.readline()),'paddock-code-driver','exec'))";
const kernelNames: Record<CodeLanguage, string> = { python: 'python3', javascript: 'paddock-javascript', bash: 'paddock-bash' };

/** The kernel spec of a language whose kernel is ours: the driver writes it where only its KernelManager looks. */
function kernelSpec(language: CodeLanguage): string | undefined {
  if (language === 'python') return undefined;
  return JSON.stringify({
    argv: ['python3', '-c', pipeKernelSource, '-f', '{connection_file}'],
    env: { PADDOCK_KERNEL_LANGUAGE: language, PADDOCK_KERNEL_CHILD: language === 'bash' ? bashChildSource : javascriptChildSource },
    display_name: language,
    language,
    interrupt_mode: 'signal',
  });
}

class KernelContext {
  state: CodeContext['state'] = 'idle';
  /** Cells and restarts of a context run one after another. */
  queue: Promise<unknown> = Promise.resolve();
  listener: ((m: DriverSignal) => void) | undefined;
  /** Lines the driver wrote that were not valid messages or too long (hostile or broken). */
  rejectedLines = 0;
  /** For a kernel warmed in a pool: the sandbox's environment then (JSON). */
  startedWithEnv: string | undefined;

  constructor(
    readonly id: string,
    readonly sandboxId: string,
    readonly language: CodeLanguage,
    readonly cwd: string | null,
    readonly createdAt: string,
    readonly proc: ManagedProcess,
  ) {}

  info(): CodeContext {
    return { id: this.id, language: this.language, cwd: this.cwd, state: this.proc.exit ? 'dead' : this.state, createdAt: this.createdAt };
  }

  send(request: Record<string, unknown>): Promise<void> {
    return this.proc.write(`${JSON.stringify(request)}\n`);
  }

  /** Waits for the first driver signal `pick` accepts (undefined: keep waiting). */
  wait<T>(pick: (m: DriverSignal) => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listener = undefined;
        reject(new TimeoutError(`the kernel did not ${what} within ${timeoutMs} ms`, { context: this.id }));
      }, timeoutMs);
      this.listener = (m) => {
        const picked = pick(m);
        if (picked === undefined) return;
        clearTimeout(timer);
        this.listener = undefined;
        resolve(picked);
      };
    });
  }
}

/**
 * Code contexts: a Jupyter kernel per context, driven from inside its
 * sandbox by a small Python process (jupyter_client) that the daemon starts
 * as a background command and talks to in JSON lines over its stdin and
 * stdout. The kernel's own stdout and stderr go to /dev/null: its output
 * reaches the driver only as Jupyter messages, so nothing a cell prints is
 * read as a driver message. Everything the driver says is checked, bounded
 * and tied to the cell asked for by a random id.
 */
export class CodeService {
  private readonly bySandbox = new Map<string, Map<string, KernelContext>>();
  private readonly starting = new Map<string, Promise<KernelContext>>();
  private readonly limits: CodeLimits;

  constructor(private readonly deps: CodeServiceDeps) {
    this.limits = { ...defaultLimits, ...deps.limits };
  }

  async create(sandbox: SandboxRecord, request: CodeContextCreate, options: { signal?: AbortSignal } = {}): Promise<CodeContext> {
    const ctx = await this.start(sandbox, request, options);
    return ctx.info();
  }

  list(sandboxId: string): CodeContext[] {
    return [...this.contexts(sandboxId).values()].map((c) => c.info());
  }

  get(sandboxId: string, contextId: string): CodeContext {
    return this.find(sandboxId, contextId).info();
  }

  /** The language of a context, if there is one by that id. */
  languageOf(sandboxId: string, contextId: string): CodeLanguage | undefined {
    return this.contexts(sandboxId).get(contextId)?.language;
  }

  /** Stops a cell that runs; the kernel and its state stay. */
  async interrupt(sandboxId: string, contextId: string): Promise<CodeContext> {
    const ctx = this.find(sandboxId, contextId);
    if (ctx.proc.exit) throw kernelDead(ctx);
    await ctx.send({ op: 'interrupt' });
    return ctx.info();
  }

  /** A fresh kernel, its state gone; the way back from a kernel that died. */
  async restart(sandbox: SandboxRecord, contextId: string): Promise<CodeContext> {
    const old = this.find(sandbox.id, contextId);
    if (old.proc.exit) {
      // The driver itself is gone: start another under the same id.
      this.contexts(sandbox.id).delete(contextId);
      const ctx = await this.start(sandbox, { language: old.language, ...(old.cwd ? { cwd: old.cwd } : {}) }, {}, contextId);
      return ctx.info();
    }
    // A running cell would hold the queue: stop it first.
    if (old.state === 'busy') await old.send({ op: 'interrupt' });
    await this.serially(old, async () => {
      const id = randomId();
      const done = old.wait(
        (m) => (m.t === 'exit' || ((m.t === 'restarted' || m.t === 'failed') && m.id === id) ? m : undefined),
        this.limits.startTimeoutMs,
        'restart',
      );
      await old.send({ op: 'restart', id });
      const m = await done;
      if (m.t !== 'restarted') throw kernelDead(old);
      old.state = 'idle';
    });
    return old.info();
  }

  async remove(sandboxId: string, contextId: string): Promise<void> {
    const ctx = this.find(sandboxId, contextId);
    this.contexts(sandboxId).delete(contextId);
    if (!ctx.proc.exit) {
      ctx.proc.closeStdin();
      // The driver shuts its kernel down when its stdin ends; one that does not is killed.
      const timer = setTimeout(() => ctx.proc.signal('SIGKILL'), 5_000);
      await ctx.proc.done;
      clearTimeout(timer);
    }
  }

  /**
   * Forgets an ended sandbox's contexts: their processes went with it, and
   * nothing names the sandbox again to find them gone (each kept its driver's
   * output, a chart's PNG included, for the daemon's life).
   */
  sandboxEnded(sandboxId: string): void {
    this.bySandbox.delete(sandboxId);
  }

  /** Sandboxes with contexts held here. */
  get sandboxesHeld(): number {
    return this.bySandbox.size;
  }

  /** The context a run names, or the sandbox's default one of its language (started on first use). */
  async resolve(sandbox: SandboxRecord, request: Pick<CodeRun, 'contextId' | 'language'>, signal?: AbortSignal): Promise<string> {
    if (request.contextId) {
      const ctx = this.find(sandbox.id, request.contextId);
      if (request.language && request.language !== ctx.language) {
        throw new BadRequestError(`context ${ctx.id} runs ${ctx.language}, not ${request.language}`, { context: ctx.id });
      }
      return ctx.id;
    }
    const language = request.language ?? 'python';
    const id = `default-${language}`;
    const ctx = await this.startOnce(sandbox, language, id, signal);
    // A kernel started while the sandbox waited in a pool has the pool's environment: one the claimer changed needs a kernel of its own.
    if (ctx.startedWithEnv !== undefined && ctx.startedWithEnv !== JSON.stringify(sandbox.env)) {
      // Two first runs may both see it; the second finds it gone already.
      if (this.contexts(sandbox.id).get(id) === ctx) await this.remove(sandbox.id, id);
      await this.startOnce(sandbox, language, id, signal);
    }
    return id;
  }

  /**
   * Starts a sandbox's default Python context ahead of its first cell (a
   * pooled sandbox, while it waits to be claimed).
   */
  async warm(sandbox: SandboxRecord): Promise<void> {
    await this.startOnce(sandbox, 'python', 'default-python', undefined, JSON.stringify(sandbox.env));
  }

  /** One start of a default context at a time: a run that comes while it starts (or while a pool warms it) waits for it. */
  private startOnce(sandbox: SandboxRecord, language: CodeLanguage, id: string, signal?: AbortSignal, warmEnv?: string): Promise<KernelContext> {
    const key = `${sandbox.id}/${id}`;
    const existing = this.contexts(sandbox.id).get(id);
    if (existing) return Promise.resolve(existing);
    let starting = this.starting.get(key);
    if (!starting) {
      starting = this.start(sandbox, { language }, { signal }, id)
        .then((ctx) => {
          // Marked before anyone waiting on the start sees it.
          ctx.startedWithEnv = warmEnv;
          return ctx;
        })
        .finally(() => this.starting.delete(key));
      this.starting.set(key, starting);
    }
    return starting;
  }

  /**
   * Runs one cell, passing its events to `emit` as they come, and resolves
   * with how it ended. A timeout interrupts the cell (the kernel keeps its
   * state); so does `signal` (the caller went away).
   */
  async run(
    sandboxId: string,
    contextId: string,
    request: Pick<CodeRun, 'code' | 'timeoutMs'>,
    emit: (e: CodeRunEvent) => void,
    signal?: AbortSignal,
  ): Promise<CodeRunEnd> {
    const ctx = this.requireAlive(sandboxId, contextId);
    return this.serially(ctx, () => this.runCell(ctx, request, emit, signal));
  }

  /** Refuses a context whose kernel died (before a streamed answer starts, so the refusal is a plain error). */
  requireAlive(sandboxId: string, contextId: string): KernelContext {
    const ctx = this.find(sandboxId, contextId);
    if (ctx.proc.exit || ctx.state === 'dead') throw kernelDead(ctx);
    return ctx;
  }

  private async runCell(
    ctx: KernelContext,
    request: Pick<CodeRun, 'code' | 'timeoutMs'>,
    emit: (e: CodeRunEvent) => void,
    signal?: AbortSignal,
  ): Promise<CodeRunEnd> {
    if (ctx.proc.exit) throw kernelDead(ctx);
    const id = randomId();
    const budget = { stdout: this.limits.maxStreamBytes, stderr: this.limits.maxStreamBytes, results: this.limits.maxResultBytes };
    let truncated = false;
    let timedOut = false;
    const interrupt = () => void ctx.send({ op: 'interrupt' }).catch(() => {});
    const timer = setTimeout(() => {
      timedOut = true;
      interrupt();
    }, request.timeoutMs ?? defaultCodeTimeoutMs);
    signal?.addEventListener('abort', interrupt, { once: true });
    ctx.state = 'busy';
    const rejectedBefore = ctx.rejectedLines;
    try {
      const ended = new Promise<{ count: number | null; died: boolean }>((resolve) => {
        ctx.listener = (m) => {
          if (m.t === 'exit') return resolve({ count: null, died: true });
          if (!('id' in m) || m.id !== id) return;
          switch (m.t) {
            case 'stream': {
              const bytes = Buffer.byteLength(m.text);
              truncated ||= Boolean(m.cut);
              if (bytes > budget[m.name]) {
                truncated = true;
                budget[m.name] = 0;
                return;
              }
              budget[m.name] -= bytes;
              emit({ type: m.name, text: m.text });
              return;
            }
            case 'result': {
              const bytes = Object.values(m.data).reduce((sum, v) => sum + v.length, 0);
              truncated ||= Boolean(m.cut);
              if (bytes > budget.results) {
                truncated = true;
                return;
              }
              budget.results -= bytes;
              const result = toResult(m.main, m.data, Boolean(m.cut));
              truncated ||= Boolean(result.truncated);
              emit({ type: 'result', result });
              return;
            }
            case 'error':
              emit({ type: 'error', error: toError(m) });
              return;
            case 'end':
              return resolve({ count: m.count, died: false });
            case 'dead':
              return resolve({ count: null, died: true });
          }
        };
      });
      await ctx.send({ op: 'execute', id, code: request.code });
      const { count, died } = await ended;
      if (died) ctx.state = 'dead';
      truncated ||= ctx.rejectedLines > rejectedBefore;
      return { executionCount: count, timedOut, kernelDied: died, truncated };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', interrupt);
      ctx.listener = undefined;
      if (ctx.state === 'busy') ctx.state = 'idle';
    }
  }

  private async start(sandbox: SandboxRecord, request: CodeContextCreate, options: { signal?: AbortSignal }, id = `ctx-${randomId()}`): Promise<KernelContext> {
    const language = request.language ?? 'python';
    const holder: DriverHolder = { early: [] };
    const subscriber = this.driverSubscriber(holder);
    const proc = await this.deps.processes.start(
      sandbox,
      {
        cmd: ['python3', '-u', '-c', bootstrap, kernelNames[language], id],
        ...(request.cwd ? { cwd: request.cwd } : {}),
        env: { ...request.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
      },
      { keepStdinOpen: true, subscriber, signal: options.signal },
    );
    const ctx = new KernelContext(id, sandbox.id, language, request.cwd ?? null, new Date().toISOString(), proc);
    holder.ctx = ctx;
    const ready = ctx.wait((m) => (m.t === 'ready' || m.t === 'failed' || m.t === 'exit' ? m : undefined), this.limits.startTimeoutMs, 'start');
    for (const m of holder.early) ctx.listener?.(m);
    if (proc.exit) ctx.listener?.({ t: 'exit' });
    const spec = kernelSpec(language);
    await proc.write(`${JSON.stringify(codeDriverSource)}\n${spec === undefined ? '' : `${spec}\n`}`);
    let m: DriverSignal;
    try {
      m = await ready;
    } catch (err) {
      proc.signal('SIGKILL');
      throw err;
    }
    if (m.t !== 'ready') {
      proc.signal('SIGKILL');
      await proc.done;
      const said = m.t === 'failed' ? m.message : proc.stderr.bytes().toString('utf8').slice(-2000);
      throw new BadRequestError(
        `no ${language} kernel could start in sandbox ${sandbox.id} (it needs python3 with ipykernel and jupyter_client${language === 'javascript' ? ', and node' : ''}: the code-interpreter template has them): ${lastLine(said)}`,
        { id: sandbox.id, language },
        'kernel_unavailable',
      );
    }
    this.contexts(sandbox.id).set(id, ctx);
    return ctx;
  }

  /**
   * Takes a sandbox's contexts back after a daemon restart: their drivers ran
   * on in the sandbox (with their kernels and variables) and were re-attached
   * as commands; each is known by the argv the daemon gave it. The argv comes
   * back from inside the sandbox, so an id or kernel that is not one this
   * daemon makes is passed over. A cell that ran across the restart has no
   * one to answer; the next cells queue behind it in the driver.
   */
  adopt(sandboxId: string): number {
    let adopted = 0;
    const contexts = this.contexts(sandboxId);
    for (const info of this.deps.processes.list(sandboxId)) {
      const found = driverArgv(info.cmd);
      if (!found || info.state !== 'running' || contexts.has(found.id)) continue;
      const proc = this.deps.processes.get(sandboxId, info.pid);
      const holder: DriverHolder = { early: [] };
      // Not replayed: what the driver wrote before the restart answered cells no one waits for now.
      proc.subscribe(this.driverSubscriber(holder), false);
      holder.ctx = new KernelContext(found.id, sandboxId, found.language, info.cwd, info.startedAt, proc);
      contexts.set(found.id, holder.ctx);
      adopted++;
    }
    if (adopted) this.deps.logger?.info({ sandbox: sandboxId, contexts: adopted }, 're-attached code contexts');
    return adopted;
  }

  /** Reads a driver's stdout as checked messages for its context (before the context exists: kept in `early`). */
  private driverSubscriber(holder: DriverHolder): ProcessSubscriber {
    const lines = new BoundedLines(this.limits.maxLineBytes, (line) => {
      const parsed = parseDriverLine(line);
      if (!parsed) {
        if (holder.ctx) holder.ctx.rejectedLines++;
        return;
      }
      if (holder.ctx?.listener) holder.ctx.listener(parsed);
      else if (!holder.ctx) holder.early.push(parsed);
    });
    return {
      push: (event: ProcessEvent) => {
        if (event.type === 'stdout') {
          const before = lines.dropped;
          lines.push(event.data);
          if (holder.ctx && lines.dropped > before) holder.ctx.rejectedLines += lines.dropped - before;
        } else if (event.type === 'exit') holder.ctx?.listener?.({ t: 'exit' });
        return true;
      },
    };
  }

  private serially<T>(ctx: KernelContext, work: () => Promise<T>): Promise<T> {
    const next = ctx.queue.then(work, work);
    ctx.queue = next.catch(() => {});
    return next;
  }

  private find(sandboxId: string, contextId: string): KernelContext {
    const ctx = this.contexts(sandboxId).get(contextId);
    if (!ctx)
      throw new NotFoundError(`code context ${contextId} not found in sandbox ${sandboxId}`, { id: sandboxId, context: contextId }, 'code_context_not_found');
    return ctx;
  }

  /** A sandbox's contexts; forgotten once its processes are (the sandbox ended). */
  private contexts(sandboxId: string): Map<string, KernelContext> {
    let map = this.bySandbox.get(sandboxId);
    if (map) {
      const any = map.values().next().value;
      if (any && !this.processKnown(any)) {
        this.bySandbox.delete(sandboxId);
        map = undefined;
      }
    }
    if (!map) {
      map = new Map();
      this.bySandbox.set(sandboxId, map);
    }
    return map;
  }

  private processKnown(ctx: KernelContext): boolean {
    try {
      return this.deps.processes.get(ctx.sandboxId, ctx.proc.pid) === ctx.proc;
    } catch (err) {
      if (err instanceof ProcessNotFoundError) return false;
      throw err;
    }
  }
}

interface DriverHolder {
  ctx?: KernelContext;
  early: DriverSignal[];
}

const contextIdPattern = /^(ctx-[A-Za-z0-9_-]{12}|default-(python|javascript|bash))$/;

/** The context a command's argv starts the driver of, if it is exactly the argv start() gives one. */
function driverArgv(cmd: string[]): { id: string; language: CodeLanguage } | undefined {
  const [python, unbuffered, dashC, source, kernel, id, ...rest] = cmd;
  if (python !== 'python3' || unbuffered !== '-u' || dashC !== '-c' || source !== bootstrap || rest.length || !id || !contextIdPattern.test(id))
    return undefined;
  const language = (Object.keys(kernelNames) as CodeLanguage[]).find((l) => kernelNames[l] === kernel);
  return language ? { id, language } : undefined;
}

function kernelDead(ctx: KernelContext): ConflictError {
  return new ConflictError(`the kernel of code context ${ctx.id} died; restart the context`, { context: ctx.id }, 'kernel_dead');
}

function randomId(): string {
  return randomBytes(9).toString('base64url');
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .at(-1)
      ?.replace(/[^\x20-\x7e]/g, '?')
      .slice(0, 300) ?? ''
  );
}

function parseDriverLine(line: string): DriverMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = DriverMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

const textFields: Record<string, keyof CodeResult> = {
  'text/plain': 'text',
  'text/html': 'html',
  'text/markdown': 'markdown',
  'text/latex': 'latex',
  'image/svg+xml': 'svg',
  'application/javascript': 'javascript',
};
const imageFields: Record<string, 'png' | 'jpeg'> = { 'image/png': 'png', 'image/jpeg': 'jpeg' };
const jsonFields: Record<string, 'json' | 'table'> = {
  'json:application/json': 'json',
  'json:application/vnd.dataresource+json': 'table',
};

/** A display's MIME bundle as a result; unknown types are left out, images must be base64, JSON must parse. */
function toResult(main: boolean, data: Record<string, string>, cut: boolean): CodeResult {
  const result: CodeResult = { isMainResult: main };
  let truncated = cut;
  for (const [mime, value] of Object.entries(data)) {
    const text = textFields[mime];
    const image = imageFields[mime];
    const json = jsonFields[mime];
    if (text) (result as Record<string, unknown>)[text] = value;
    else if (image) {
      const b64 = value.replace(/\s+/g, '');
      if (/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) result[image] = b64;
      else truncated = true;
    } else if (json) {
      try {
        result[json] = JSON.parse(value);
      } catch {
        truncated = true;
      }
    }
  }
  if (truncated) result.truncated = true;
  return result;
}

const ansiColour = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function toError(m: Extract<DriverMessage, { t: 'error' }>): CodeError {
  // IPython colours tracebacks for terminals; callers (people, models) read plain text.
  return { name: m.name, value: m.value, traceback: m.traceback.join('\n').replace(ansiColour, '') };
}
