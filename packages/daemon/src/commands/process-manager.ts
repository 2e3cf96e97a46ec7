import type { CommandResult, CommandStart, ProcessInfo } from '@paddock/core';
import { BadRequestError, PaddockError, ProcessNotFoundError } from '@paddock/core';
import type { AgentProcess, ExecHandlers, ExecSession, SandboxHost } from '@paddock/engine';
import type { Logger } from 'pino';
import type { SandboxRecord } from '../store/sandbox-store.js';
import { OutputTail } from './output-tail.js';
import { encodeProcessMeta, type ProcessMeta, parseProcessMeta } from './process-meta.js';
import { signalName, signalNumber } from './signals.js';

export type ProcessEvent = { type: 'stdout' | 'stderr'; data: Buffer } | { type: 'exit'; result: ProcessExit };

export type ProcessExit = Omit<CommandResult, 'stdout' | 'stderr'>;

/** Someone reading a process's output. Returning false from push asks for back-pressure. */
export interface ProcessSubscriber {
  push(event: ProcessEvent): boolean;
}

export interface ProcessManagerOptions {
  engine: SandboxHost;
  /** Bytes of stdout and of stderr kept per process for late readers. */
  outputLimitBytes: number;
  /** Exited processes kept per sandbox for `logs` and listing. */
  keepExited?: number;
  /**
   * Told when the agent connection of a command drops without an exit: the
   * whole sandbox may have died (under gVisor, the host OOM killer ends the
   * sandbox kernel itself).
   */
  onConnectionLost?: (sandboxId: string) => void;
  /** Where commands that could not be adopted after a restart are reported. */
  logger?: Logger;
}

/** A command running (or recently run) in a sandbox. */
export class ManagedProcess {
  readonly stdout: OutputTail;
  readonly stderr: OutputTail;
  exit: ProcessExit | null = null;
  readonly done: Promise<ProcessExit>;
  private readonly subscribers = new Set<ProcessSubscriber>();
  private readonly blocked = new Set<ProcessSubscriber>();
  private session!: ExecSession;
  private settle!: (exit: ProcessExit) => void;
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;
  private exitListener: (() => void) | undefined;

  constructor(
    readonly sandboxId: string,
    readonly request: CommandStart,
    outputLimit: number,
    readonly startedAt = new Date().toISOString(),
  ) {
    this.stdout = new OutputTail(outputLimit);
    this.stderr = new OutputTail(outputLimit);
    this.done = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  get pid(): number {
    return this.session.pid;
  }

  /** `timeoutMs`: what is left of the command's own timeout (less than it asked for when adopted after a restart). */
  attachSession(session: ExecSession, oomBefore: number, oomNow: () => number, onLost: () => void = () => {}, timeoutMs = this.request.timeoutMs): void {
    this.session = session;
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.signal('SIGKILL');
      }, timeoutMs);
    }
    session.exited.then(
      ({ exitCode, signal }) => {
        const killedBySignal = signal !== 0;
        this.finish({
          exitCode,
          signal: signalName(signal),
          oomKilled: killedBySignal && signal === signalNumber('SIGKILL') && !this.timedOut && oomNow() > oomBefore,
          timedOut: this.timedOut,
        });
      },
      () => {
        this.finish({ exitCode: 137, signal: 'SIGKILL', oomKilled: !this.timedOut && oomNow() > oomBefore, timedOut: this.timedOut });
        onLost();
      },
    );
  }

  /** The handlers an agent session reports this process's output to. */
  handlers(): ExecHandlers {
    return {
      onStdout: (d) => this.output('stdout', d),
      onStderr: (d) => this.output('stderr', d),
      onDropped: (stream, bytes) => (stream === 'stdout' ? this.stdout : this.stderr).skip(bytes),
    };
  }

  /** Called by the agent session as output arrives. */
  output(stream: 'stdout' | 'stderr', data: Buffer): void {
    (stream === 'stdout' ? this.stdout : this.stderr).append(data);
    for (const sub of this.subscribers) {
      if (!sub.push({ type: stream, data }) && !this.blocked.has(sub)) {
        this.blocked.add(sub);
        this.session?.pause();
      }
    }
  }

  /** Adds a reader; it first gets what is kept so far, then live output. */
  subscribe(sub: ProcessSubscriber, replay = true): () => void {
    if (replay) {
      const out = this.stdout.bytes();
      const err = this.stderr.bytes();
      if (out.length) sub.push({ type: 'stdout', data: out });
      if (err.length) sub.push({ type: 'stderr', data: err });
    }
    if (this.exit) {
      sub.push({ type: 'exit', result: this.exit });
      return () => {};
    }
    this.subscribers.add(sub);
    return () => this.unsubscribe(sub);
  }

  /**
   * Drops a reader. A reader that went away while it held the output back
   * must release it, or the process's exit would never be read.
   */
  unsubscribe(sub: ProcessSubscriber): void {
    this.subscribers.delete(sub);
    this.unblock(sub);
  }

  /** A subscriber that refused data is ready again. */
  unblock(sub: ProcessSubscriber): void {
    if (this.blocked.delete(sub) && this.blocked.size === 0) this.session?.resume();
  }

  /** Resolves when the agent can take more; callers streaming large input await it. */
  async write(data: Buffer | string): Promise<void> {
    if (!this.exit) await this.session.write(data);
  }

  closeStdin(): void {
    if (!this.exit) this.session.closeStdin();
  }

  signal(name: string): void {
    if (this.exit) return;
    // A paused reader would keep the agent blocked on output and deaf to the signal.
    this.blocked.clear();
    this.session.resume();
    this.session.signal(signalNumber(name));
  }

  resize(cols: number, rows: number): void {
    if (!this.exit) this.session.resize(cols, rows);
  }

  info(): ProcessInfo {
    return {
      pid: this.pid,
      cmd: this.request.cmd,
      cwd: this.request.cwd ?? null,
      user: this.request.user ?? 'root',
      pty: Boolean(this.request.pty),
      state: this.exit ? 'exited' : 'running',
      startedAt: this.startedAt,
      exitCode: this.exit?.exitCode ?? null,
      signal: this.exit?.signal ?? null,
      oomKilled: this.exit?.oomKilled ?? false,
      timedOut: this.exit?.timedOut ?? false,
    };
  }

  result(): CommandResult {
    const exit = this.exit ?? { pid: this.pid, exitCode: -1, signal: null, oomKilled: false, timedOut: false, truncated: false };
    return {
      ...exit,
      pid: this.pid,
      stdout: this.stdout.bytes().toString(),
      stderr: this.stderr.bytes().toString(),
      truncated: this.stdout.truncated || this.stderr.truncated,
    };
  }

  /** Calls `listener` as the process exits (at once if it has), before anyone awaiting `done` goes on. */
  onExit(listener: () => void): void {
    if (this.exit) listener();
    else this.exitListener = listener;
  }

  /** The sandbox is going away: stop talking to the agent. */
  abandon(): void {
    this.session?.detach();
    this.finish({ exitCode: 137, signal: 'SIGKILL', oomKilled: false, timedOut: this.timedOut });
  }

  private finish(partial: Omit<ProcessExit, 'pid' | 'truncated'>): void {
    if (this.exit) return;
    clearTimeout(this.timer);
    this.exit = { pid: this.pid, ...partial, truncated: this.stdout.truncated || this.stderr.truncated };
    for (const sub of this.subscribers) sub.push({ type: 'exit', result: this.exit });
    this.subscribers.clear();
    this.blocked.clear();
    this.exitListener?.();
    this.settle(this.exit);
  }
}

/** Output of exited processes a sandbox may keep for `logs`, in total. */
const maxKeptOutputBytes = 16 * 1024 * 1024;

/**
 * A sandbox's processes by pid, in the order they started, keeping at most
 * `keepExited` exited ones and `maxKeptOutputBytes` of their output: past
 * either, the ones that exited first are forgotten as the next one exits.
 * Counted as they exit, so a start costs the same with a hundred exited
 * processes kept as with none (every exec starts one).
 */
class SandboxProcesses {
  readonly byPid = new Map<number, ManagedProcess>();
  /** The exited processes still kept, in the order they exited, with the output each held then. */
  private readonly exited = new Map<ManagedProcess, number>();
  private exitedBytes = 0;

  constructor(private readonly keepExited: number) {}

  add(proc: ManagedProcess): void {
    const before = this.byPid.get(proc.pid);
    // A pid the sandbox's kernel handed out again replaces the process that had it.
    if (before) this.forget(before);
    this.byPid.set(proc.pid, proc);
    proc.onExit(() => {
      if (this.byPid.get(proc.pid) !== proc) return;
      const bytes = proc.stdout.size + proc.stderr.size;
      this.exited.set(proc, bytes);
      this.exitedBytes += bytes;
      this.trim();
    });
  }

  private trim(): void {
    for (const old of this.exited.keys()) {
      if (this.exited.size <= this.keepExited && this.exitedBytes <= maxKeptOutputBytes) break;
      this.forget(old);
    }
  }

  private forget(proc: ManagedProcess): void {
    this.byPid.delete(proc.pid);
    this.exitedBytes -= this.exited.get(proc) ?? 0;
    this.exited.delete(proc);
  }
}

/** Starts commands through sandbox agents and remembers them for attach, logs and kill. */
export class ProcessManager {
  private readonly bySandbox = new Map<string, SandboxProcesses>();
  private readonly keepExited: number;

  constructor(private readonly options: ProcessManagerOptions) {
    this.keepExited = options.keepExited ?? 100;
  }

  async start(
    sandbox: SandboxRecord,
    given: CommandStart,
    options: { keepStdinOpen?: boolean; subscriber?: ProcessSubscriber; signal?: AbortSignal } = {},
  ): Promise<ManagedProcess> {
    const request = { ...given, user: given.user ?? sandbox.defaultUser };
    const proc = new ManagedProcess(sandbox.id, request, this.options.outputLimitBytes);
    const unsubscribe = options.subscriber ? proc.subscribe(options.subscriber, false) : undefined;
    const env = Object.entries({ ...sandbox.env, ...request.env }).map(([k, v]) => `${k}=${v}`);
    const engine = this.options.engine;
    const oomBefore = engine.oomKills(sandbox.id);
    // The agent keeps what a restarted daemon needs to show and govern the command (not its env nor stdin).
    const meta = encodeProcessMeta({
      cmd: request.cmd,
      cwd: request.cwd ?? null,
      user: request.user,
      pty: request.pty ?? null,
      startedAt: proc.startedAt,
      timeoutMs: request.timeoutMs ?? null,
      oomBefore,
    });
    try {
      const session = await engine
        .agent(sandbox.id)
        .exec({ cmd: request.cmd, env, cwd: request.cwd ?? sandbox.workdir, user: request.user, pty: request.pty, meta }, proc.handlers(), {
          timeoutMs: 10_000,
          signal: options.signal,
        });
      proc.attachSession(
        session,
        oomBefore,
        () => engine.oomKills(sandbox.id),
        () => this.options.onConnectionLost?.(sandbox.id),
      );
    } catch (err) {
      unsubscribe?.();
      // The agent names the step that failed; a bad working directory is the caller's mistake, not a missing program.
      if (err instanceof PaddockError && err.message.startsWith('cwd ')) {
        throw new BadRequestError(err.message, { cwd: request.cwd ?? sandbox.workdir }, 'invalid_cwd');
      }
      throw err;
    }
    if (request.stdin !== undefined) {
      await proc.write(request.stdin);
      proc.closeStdin();
    } else if (!options.keepStdinOpen && !request.pty) {
      proc.closeStdin();
    }
    this.remember(proc);
    return proc;
  }

  /**
   * Takes over the commands a sandbox's agent still supervises (after a
   * restart of the daemon): each is listed under its pid again, with the
   * output the agent kept, its exit if it ended meanwhile, and what is left
   * of its timeout. Returns how many were adopted. `timeoutMs` bounds the
   * whole: a sandbox (its agent is its own to replace) must not hold up the
   * daemon's start by listing commands that never answer. An agent that does
   * not say it can hand commands over (one from before re-attach, in a
   * sandbox started before an upgrade) is not asked to: its commands run on,
   * unlisted, and the log says why, once.
   */
  async adopt(sandbox: SandboxRecord, options: { timeoutMs: number }): Promise<number> {
    const deadline = Date.now() + options.timeoutMs;
    const agent = this.options.engine.agent(sandbox.id);
    const { version, features } = await agent.hello({ timeoutMs: options.timeoutMs });
    if (!features.includes('procs') || !features.includes('attach')) {
      this.options.logger?.warn(
        { sandbox: sandbox.id, agentVersion: version, agentFeatures: features },
        'the sandbox agent cannot hand over its commands (it predates re-attach): they are not re-attached',
      );
      return 0;
    }
    const listed = await agent.processes({ timeoutMs: Math.max(1, deadline - Date.now()) });
    let adopted = 0;
    for (const [i, found] of listed.entries()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.options.logger?.warn({ sandbox: sandbox.id, notAdopted: listed.length - i }, 'ran out of time re-attaching to commands');
        break;
      }
      if (this.bySandbox.get(sandbox.id)?.byPid.has(found.pid)) continue;
      try {
        await this.adoptOne(sandbox, found, left);
        adopted++;
      } catch (err) {
        this.options.logger?.warn({ err, sandbox: sandbox.id, pid: found.pid }, 'a command could not be re-attached after the restart');
      }
    }
    return adopted;
  }

  private async adoptOne(sandbox: SandboxRecord, found: AgentProcess, timeoutMs: number): Promise<void> {
    const engine = this.options.engine;
    const meta: ProcessMeta = parseProcessMeta(found.meta);
    const request: CommandStart = { cmd: meta.cmd, user: meta.user, ...(meta.cwd ? { cwd: meta.cwd } : {}), ...(meta.pty ? { pty: meta.pty } : {}) };
    const proc = new ManagedProcess(sandbox.id, request, this.options.outputLimitBytes, meta.startedAt);
    const session = await engine.agent(sandbox.id).attach(found.pid, { stdout: 0, stderr: 0 }, proc.handlers(), { timeoutMs });
    const left = meta.timeoutMs === null ? undefined : Math.max(0, Date.parse(meta.startedAt) + meta.timeoutMs - Date.now());
    proc.attachSession(
      session,
      meta.oomBefore ?? engine.oomKills(sandbox.id),
      () => engine.oomKills(sandbox.id),
      () => this.options.onConnectionLost?.(sandbox.id),
      left,
    );
    this.remember(proc);
  }

  get(sandboxId: string, pid: number): ManagedProcess {
    const proc = this.bySandbox.get(sandboxId)?.byPid.get(pid);
    if (!proc) throw new ProcessNotFoundError(sandboxId, pid);
    return proc;
  }

  list(sandboxId: string): ProcessInfo[] {
    return [...(this.bySandbox.get(sandboxId)?.byPid.values() ?? [])].map((p) => p.info());
  }

  /** Lets go of every agent connection as the daemon stops; the commands go on in their sandboxes, for the next start to adopt. */
  detachAll(): void {
    for (const sandboxId of [...this.bySandbox.keys()]) this.dropSandbox(sandboxId);
  }

  /** Forgets a sandbox's processes; called when it is killed. */
  dropSandbox(sandboxId: string): void {
    // A copy: each one abandoned exits, and may make its sandbox forget others.
    for (const proc of [...(this.bySandbox.get(sandboxId)?.byPid.values() ?? [])]) proc.abandon();
    this.bySandbox.delete(sandboxId);
  }

  private remember(proc: ManagedProcess): void {
    let procs = this.bySandbox.get(proc.sandboxId);
    if (!procs) {
      procs = new SandboxProcesses(this.keepExited);
      this.bySandbox.set(proc.sandboxId, procs);
    }
    procs.add(proc);
  }
}
