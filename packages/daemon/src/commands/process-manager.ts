import type { CommandResult, CommandStart, ProcessInfo } from '@paddock/core';
import { BadRequestError, PaddockError, ProcessNotFoundError } from '@paddock/core';
import type { ExecSession, SandboxEngine } from '@paddock/engine';
import type { SandboxRecord } from '../store/sandbox-store.js';
import { OutputTail } from './output-tail.js';
import { signalName, signalNumber } from './signals.js';

export type ProcessEvent = { type: 'stdout' | 'stderr'; data: Buffer } | { type: 'exit'; result: ProcessExit };

export type ProcessExit = Omit<CommandResult, 'stdout' | 'stderr'>;

/** Someone reading a process's output. Returning false from push asks for back-pressure. */
export interface ProcessSubscriber {
  push(event: ProcessEvent): boolean;
}

export interface ProcessManagerOptions {
  engine: SandboxEngine;
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
}

/** A command running (or recently run) in a sandbox. */
export class ManagedProcess {
  readonly stdout: OutputTail;
  readonly stderr: OutputTail;
  readonly startedAt = new Date().toISOString();
  exit: ProcessExit | null = null;
  readonly done: Promise<ProcessExit>;
  private readonly subscribers = new Set<ProcessSubscriber>();
  private readonly blocked = new Set<ProcessSubscriber>();
  private session!: ExecSession;
  private settle!: (exit: ProcessExit) => void;
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;

  constructor(
    readonly sandboxId: string,
    readonly request: CommandStart,
    outputLimit: number,
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

  attachSession(session: ExecSession, oomBefore: number, oomNow: () => number, onLost: () => void = () => {}): void {
    this.session = session;
    if (this.request.timeoutMs) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.signal('SIGKILL');
      }, this.request.timeoutMs);
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
    this.settle(this.exit);
  }
}

/** Output of exited processes a sandbox may keep for `logs`, in total. */
const maxKeptOutputBytes = 16 * 1024 * 1024;

/** Starts commands through sandbox agents and remembers them for attach, logs and kill. */
export class ProcessManager {
  private readonly bySandbox = new Map<string, Map<number, ManagedProcess>>();
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
    try {
      const session = await engine
        .agent(sandbox.id)
        .exec(
          { cmd: request.cmd, env, cwd: request.cwd ?? sandbox.workdir, user: request.user, pty: request.pty },
          { onStdout: (d) => proc.output('stdout', d), onStderr: (d) => proc.output('stderr', d) },
          { timeoutMs: 10_000, signal: options.signal },
        );
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

  get(sandboxId: string, pid: number): ManagedProcess {
    const proc = this.bySandbox.get(sandboxId)?.get(pid);
    if (!proc) throw new ProcessNotFoundError(sandboxId, pid);
    return proc;
  }

  list(sandboxId: string): ProcessInfo[] {
    return [...(this.bySandbox.get(sandboxId)?.values() ?? [])].map((p) => p.info());
  }

  /** Forgets a sandbox's processes; called when it is killed. */
  dropSandbox(sandboxId: string): void {
    for (const proc of this.bySandbox.get(sandboxId)?.values() ?? []) proc.abandon();
    this.bySandbox.delete(sandboxId);
  }

  private remember(proc: ManagedProcess): void {
    let procs = this.bySandbox.get(proc.sandboxId);
    if (!procs) {
      procs = new Map();
      this.bySandbox.set(proc.sandboxId, procs);
    }
    procs.set(proc.pid, proc);
    // Forget the oldest exited processes past a count and past a total of kept output.
    const exited = [...procs.values()].filter((p) => p.exit);
    let kept = exited.reduce((sum, p) => sum + p.stdout.size + p.stderr.size, 0);
    for (const [i, old] of exited.entries()) {
      if (exited.length - i <= this.keepExited && kept <= maxKeptOutputBytes) break;
      procs.delete(old.pid);
      kept -= old.stdout.size + old.stderr.size;
    }
  }
}
