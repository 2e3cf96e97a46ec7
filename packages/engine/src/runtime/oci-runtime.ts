import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RuntimeError } from '@paddock/core';
import type { LeanSpawner } from '../host/lean-spawner.js';
import { runHostCommand } from '../host/run-host-command.js';
import type { CallOptions, RuntimeAdapter, RuntimeState, RuntimeStatus } from './runtime-adapter.js';

export interface OciRuntimeOptions {
  /** Path of the runtime binary (runc, runsc). */
  binary: string;
  /** The runtime's state directory; one per daemon so daemons never see each other's sandboxes. */
  root: string;
  /** Global flags placed before every subcommand (runsc takes its platform and sandbox settings there). */
  globalArgs?: readonly string[];
  /** Flags of the run subcommand. */
  runArgs?: readonly string[];
  /** Starts the runtime from a small helper process (see LeanSpawner): a fork from the daemon costs more. */
  spawner?: LeanSpawner;
  /**
   * The state's pid is the container's init, whose death ends its whole pid
   * namespace (runc): a kill can signal it directly instead of spawning the
   * runtime once more. runsc's pid is its sandbox process, which must not be
   * killed behind its back.
   */
  pidIsContainerInit?: boolean;
}

const defaultTimeoutMs = 30_000;

interface RuncStateJson {
  id: string;
  status: string;
  pid: number;
  bundle: string;
}

/** The adapter for runtimes that speak the OCI runtime CLI: runc and gVisor's runsc. */
export class OciRuntime implements RuntimeAdapter {
  readonly name: string;
  private readonly binary: string;
  private readonly root: string;
  private readonly globalArgs: readonly string[];
  private readonly runArgs: readonly string[];
  private readonly pidIsContainerInit: boolean;
  private readonly spawner: LeanSpawner | undefined;

  constructor(options: OciRuntimeOptions) {
    this.binary = options.binary;
    this.name = options.binary.split('/').at(-1) ?? options.binary;
    this.root = options.root;
    this.globalArgs = options.globalArgs ?? [];
    this.runArgs = options.runArgs ?? [];
    this.pidIsContainerInit = options.pidIsContainerInit ?? false;
    this.spawner = options.spawner;
  }

  /** An init whose death ends its pid namespace ends with its cgroup's processes too. */
  get endsWithItsCgroup(): boolean {
    return this.pidIsContainerInit;
  }

  /**
   * The container keeps the stdio runc is started with for its whole life: it
   * gets /dev/null, never a pipe of ours (this call would wait for the sandbox
   * to end) nor a host file (a sandbox could write to the host's disk through
   * it). The runtime's own errors go to a log file in the bundle.
   */
  async run(id: string, bundleDir: string, options: CallOptions = {}): Promise<void> {
    const logFile = join(bundleDir, 'runc.log');
    await new Promise<void>((resolve, reject) => {
      const args = [...this.globalArgs, '--root', this.root, '--log', logFile, 'run', ...this.runArgs, '--detach', '--bundle', bundleDir, id];
      const child = this.spawner ? this.spawner.spawn(this.binary, args, { stdio: 'ignore' }) : spawn(this.binary, args, { stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? defaultTimeoutMs);
      const onAbort = () => child.kill('SIGTERM');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) onAbort();
      const done = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      child.on('error', (e: Error) => {
        done();
        reject(new RuntimeError(`${this.binary} run: ${e.message}`));
      });
      child.on('close', async (code: number | null) => {
        done();
        if (code === 0) return resolve();
        const text = await readFile(logFile, 'utf8').catch(() => '');
        reject(new RuntimeError(`${this.name} run failed: ${lastLoggedError(text) ?? `exit ${code}`}`, { id }));
      });
    });
  }

  async exec(id: string, args: string[], options: CallOptions = {}): Promise<{ stdout: string; stderr: string }> {
    return this.call(['exec', id, ...args], options);
  }

  async pause(id: string, options: CallOptions = {}): Promise<void> {
    await this.call(['pause', id], options);
  }

  async resume(id: string, options: CallOptions = {}): Promise<void> {
    await this.call(['resume', id], options);
  }

  async kill(id: string, signal: string, options: CallOptions = {}): Promise<void> {
    await this.call(['kill', id, signal], options);
  }

  /**
   * `runc delete --force` sleeps 100 ms after its SIGKILL before it looks
   * again; killing first and watching the init process ourselves saves that.
   */
  async delete(id: string, options: CallOptions & { force?: boolean; killed?: boolean } = {}): Promise<void> {
    if (options.killed) {
      if (this.pidIsContainerInit && (await this.forgetEnded(id))) return;
      // Its processes are gone: runc only removes its record (no state to ask for, no kill).
      try {
        await this.call(['delete', id], options);
        return;
      } catch (err) {
        if (isMissing(err)) return;
        // runc still sees it running: the forceful path below.
      }
    }
    if (options.force) {
      const state = await this.state(id, options);
      if (!state) return;
      if (state.status === 'running' && state.pid > 0) {
        await this.killInit(id, state.pid, options);
        if (await processEnded(state.pid, 3000)) {
          try {
            await this.call(['delete', id], options);
            return;
          } catch {
            // fall back to the forceful path below
          }
        }
      }
    }
    try {
      await this.call(['delete', ...(options.force ? ['--force'] : []), id], options);
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
  }

  /**
   * Removes the record of a runc container whose init is gone: runc keeps a
   * container as its state folder alone, and its cgroups went with the
   * caller's kill, so the folder is all `runc delete` would remove. Doing it
   * here also skips runc's reading of the whole mount table on each delete
   * (every sandbox's mounts: killing N sandboxes cost O(N²)). False: the init
   * still runs, or the record cannot be read (runc is asked instead).
   */
  private async forgetEnded(id: string): Promise<boolean> {
    const dir = join(this.root, id);
    let record: { init_process_pid?: unknown; init_process_start?: unknown };
    try {
      record = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
    const pid = record.init_process_pid;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
    if (await runsAs(pid, String(record.init_process_start))) return false;
    await rm(dir, { recursive: true, force: true });
    return true;
  }

  private async killInit(id: string, pid: number, options: CallOptions): Promise<void> {
    if (this.pidIsContainerInit) {
      try {
        process.kill(pid, 'SIGKILL');
        return;
      } catch {
        // gone already, or not ours to signal: let the runtime try
      }
    }
    await this.kill(id, 'KILL', options).catch(() => {});
  }

  async state(id: string, options: CallOptions = {}): Promise<RuntimeState | null> {
    try {
      const { stdout } = await this.call(['state', id], options);
      return toState(JSON.parse(stdout) as RuncStateJson);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async list(options: CallOptions = {}): Promise<RuntimeState[]> {
    const { stdout } = await this.call(['list', '--format', 'json'], options);
    const parsed = JSON.parse(stdout.trim() || 'null') as RuncStateJson[] | null;
    return (parsed ?? []).map(toState);
  }

  private call(args: string[], options: CallOptions) {
    return runHostCommand(this.binary, [...this.globalArgs, '--root', this.root, ...args], {
      timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
      signal: options.signal,
      spawner: this.spawner,
    });
  }
}

/** runc logs logfmt lines with level=error; runsc logs glog lines, its errors starting with E or W. */
export function lastLoggedError(log: string): string | undefined {
  const lines = log.split('\n').filter((l) => l.trim());
  const message = (l: string) => /msg="(.*)"$/.exec(l)?.[1] ?? l;
  const runcErrors = lines.filter((l) => l.includes('level=error')).map(message);
  // runc's own last line of a failed start says little ("can't get final child's PID from pipe: EOF"):
  // what runc init logged as fatal just before it says why (a namespace it could not make, say).
  const last = runcErrors.length ? lines.findLastIndex((l) => l.includes('level=error')) : -1;
  const fatal = lines
    .slice(Math.max(0, last - 5), Math.max(0, last))
    .filter((l) => l.includes('level=fatal'))
    .map(message);
  if (runcErrors.length) return [...fatal, runcErrors.at(-1)].join('; ');
  const glogProblems = lines.filter((l) => /^[EWF]\d{4} /.test(l)).map((l) => l.replace(/^\S+ \S+ +\d+ [^\]]+\] /, ''));
  return glogProblems.at(-1) ?? lines.at(-1);
}

function toState(s: RuncStateJson): RuntimeState {
  const known: RuntimeStatus[] = ['creating', 'created', 'running', 'paused', 'stopped'];
  const status = known.includes(s.status as RuntimeStatus) ? (s.status as RuntimeStatus) : 'stopped';
  return { id: s.id, status, pid: s.pid, bundle: s.bundle };
}

function isMissing(err: unknown): boolean {
  return err instanceof RuntimeError && /does not exist|not found|cannot load container/i.test(String(err.details.stderr ?? err.message));
}

/** Whether `pid` is still the process that started at `start` (clock ticks after boot, /proc's field 22) and has not exited. */
async function runsAs(pid: number, start: string): Promise<boolean> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The fields after the parenthesised command name: state is the first, starttime the twentieth.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return !/^[ZX]$/.test(fields[0] ?? '') && fields[19] === start;
}

/** Polls until a process has exited (gone or a zombie), up to `timeoutMs`. */
async function processEnded(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; Date.now() < deadline; delay = Math.min(delay * 2, 20)) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // The state letter follows the parenthesised command name.
      if (/\) [ZX] /.test(stat)) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
  return false;
}
