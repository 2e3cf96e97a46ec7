import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { NativeSpawnHelper } from './native-spawn-helper.js';

/**
 * Starts processes from a small helper process instead of this one.
 *
 * fork(2) copies the page tables of the process that calls it, so a spawn
 * costs more the more memory its caller holds: on this machine's VM ~3 ms of
 * CPU from a fresh Node process (~40 MB), 7 ms from one of 150 MB, 13 ms at
 * 350 MB, 19 ms at 650 MB (bench-free check: spawnSync('/bin/true') in a loop
 * beside buffers of that size). The helper stays small: it spawns, hands the
 * child's stdio back over its IPC channel (libuv's stdio pipes are socket
 * pairs, which Node passes as sockets) and reports the exit. It dies with its
 * parent's IPC channel; should it die first, the children it started are
 * killed (nobody could tell their end) and the next spawn starts another.
 * Programs whose stdio is ignored or gathered start from a smaller helper
 * still, in C (see native-spawn-helper.ts), when it is built.
 */
export class LeanSpawner {
  private helper: ChildProcess | undefined;
  private readonly children = new Map<number, LeanChild>();
  private nextId = 1;

  private readonly native = NativeSpawnHelper.available() ? new NativeSpawnHelper() : undefined;

  spawn(file: string, args: readonly string[], options: LeanSpawnOptions = {}): LeanChild {
    const stdio = options.stdio ?? 'pipe';
    const child = new LeanChild(stdio !== 'pipe');
    const env = options.env ?? process.env;
    if (stdio !== 'pipe' && this.native) {
      this.native.spawn(child, {
        file,
        args,
        cwd: options.cwd,
        env,
        detached: options.detached === true,
        collect: stdio === 'collect',
        input: options.input,
      });
      return child;
    }
    const id = this.nextId++;
    this.children.set(id, child);
    const request = { t: 'spawn', id, file, args, cwd: options.cwd, env, detached: options.detached === true, stdio, input: options.input };
    const helper = this.ensureHelper();
    // While a child is out, the channel keeps this process alive (its result is awaited); idle, it does not.
    helper.channel?.ref();
    helper.send(request, (err) => {
      if (err) this.settle(id, (c) => c.failed(Object.assign(new Error(`spawn ${file}: the spawner is gone (${err.message})`), { code: 'EPIPE' })));
    });
    return child;
  }

  /** Ends the helper; a child still out then is killed, as when the helper dies (nobody could tell its end). */
  stop(): void {
    this.helper?.disconnect();
    this.helper = undefined;
    this.native?.stop();
  }

  private ensureHelper(): ChildProcess {
    if (this.helper?.connected) return this.helper;
    const helper = spawn(process.execPath, ['--max-semi-space-size=1', '-e', helperSource], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    helper.on('message', (msg: HelperMessage, handle?: Socket) => this.onMessage(msg, handle));
    helper.on('exit', () => {
      if (this.helper === helper) this.helper = undefined;
      for (const id of [...this.children.keys()]) {
        this.settle(id, (c) => c.lost());
      }
    });
    // Neither the helper nor its idle channel keeps this process alive.
    helper.unref();
    helper.channel?.unref();
    this.helper = helper;
    return helper;
  }

  private onMessage(msg: HelperMessage, handle: Socket | undefined): void {
    const child = this.children.get(msg.id);
    if (!child) return;
    switch (msg.t) {
      case 'error':
        this.settle(msg.id, (c) => c.failed(Object.assign(new Error(msg.message), { code: msg.code })));
        break;
      case 'spawned':
        child.started(msg.pid);
        break;
      case 'stdio':
        if (handle) child.attach(msg.n, handle);
        break;
      case 'exit':
        this.settle(msg.id, (c) => c.exited(msg.code, msg.signal, msg.output));
    }
  }

  private settle(id: number, finish: (child: LeanChild) => void): void {
    const child = this.children.get(id);
    if (!child) return;
    this.children.delete(id);
    if (this.children.size === 0) this.helper?.channel?.unref();
    finish(child);
  }
}

export interface LeanSpawnOptions {
  cwd?: string;
  /** The program's whole environment; this process's when omitted. */
  env?: NodeJS.ProcessEnv;
  detached?: boolean;
  /**
   * 'pipe' (the default): stdin, stdout and stderr come back as streams.
   * 'collect': the helper writes `input` to stdin and gathers the output,
   * which comes with the exit as `child.output` (three fewer sockets passed
   * per spawn, for commands whose output is only read at the end).
   */
  stdio?: 'pipe' | 'ignore' | 'collect';
  /** With 'collect': written to stdin, which is then closed. */
  input?: string;
}

type HelperMessage =
  | { t: 'spawned'; id: number; pid: number }
  | { t: 'stdio'; id: number; n: 0 | 1 | 2 }
  | { t: 'error'; id: number; code?: string; message: string }
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null; output?: LeanOutput };

/** What a 'collect' child wrote, decoded as UTF-8. */
export interface LeanOutput {
  stdout: string;
  stderr: string;
}

/**
 * A process the helper started, with ChildProcess's events: 'spawn' or
 * 'error' first, then 'exit' and 'close' (after stdout and stderr ended).
 * Unlike ChildProcess, its stdio streams are there from 'spawn' on, not before.
 */
export class LeanChild extends EventEmitter {
  pid: number | undefined;
  stdin: Writable | null = null;
  stdout: Readable | null = null;
  stderr: Readable | null = null;
  /** With stdio 'collect', from 'exit' on. */
  output: LeanOutput | undefined;
  private openOutputs: number;
  private exit: [number | null, NodeJS.Signals | null] | undefined;

  constructor(noPipes: boolean) {
    super();
    this.openOutputs = noPipes ? 0 : 2;
  }

  /** Before 'spawn' (no pid yet), the signal goes as soon as the process has one. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.exit) return false;
    if (this.pid === undefined) {
      this.once('spawn', () => this.kill(signal));
      return true;
    }
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** @internal */
  started(pid: number): void {
    this.pid = pid;
    if (this.openOutputs === 0) this.emit('spawn');
  }

  /** @internal */
  attach(n: 0 | 1 | 2, socket: Socket): void {
    if (n === 0) {
      // The child's end of a socket pair: nothing is ever read from it here.
      socket.on('error', () => {});
      this.stdin = socket;
      return;
    }
    socket.once('close', () => {
      this.openOutputs -= 1;
      this.maybeClose();
    });
    if (n === 1) this.stdout = socket;
    else {
      this.stderr = socket;
      // The last of the three: the streams are all there.
      this.emit('spawn');
    }
  }

  /** @internal */
  exited(code: number | null, signal: NodeJS.Signals | null, output?: LeanOutput): void {
    this.exit = [code, signal];
    this.output = output;
    this.emit('exit', code, signal);
    this.maybeClose();
  }

  /** @internal */
  failed(err: Error): void {
    this.exit = [null, null];
    this.emit('error', err);
  }

  /** @internal The helper died before telling how this child ended: nobody could, so it is killed. */
  lost(): void {
    if (this.pid === undefined) {
      this.failed(Object.assign(new Error('the spawner exited'), { code: 'EPIPE' }));
      return;
    }
    this.kill('SIGKILL');
    this.exited(null, 'SIGKILL');
  }

  private maybeClose(): void {
    if (this.exit && this.openOutputs <= 0) this.emit('close', ...this.exit);
  }
}

// The helper: CommonJS, no imports of ours, so it loads in a few ms and stays small.
const helperSource = `
const { spawn } = require('node:child_process');
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m.t !== 'spawn') return;
  let child;
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, detached: m.detached, stdio: m.stdio === 'ignore' ? 'ignore' : 'pipe' });
  } catch (e) {
    process.send({ t: 'error', id: m.id, code: e.code, message: e.message });
    return;
  }
  // Node starts reading a child's output at once; whatever this process read would be lost
  // to the parent, so no read happens here before the pipes are handed over.
  if (m.stdio === 'pipe') for (const s of [child.stdout, child.stderr]) s?._handle?.readStop();
  child.once('error', (e) => {
    if (child.pid === undefined) process.send({ t: 'error', id: m.id, code: e.code, message: e.message });
  });
  child.once('spawn', () => {
    process.send({ t: 'spawned', id: m.id, pid: child.pid });
    if (m.stdio !== 'pipe') return;
    process.send({ t: 'stdio', id: m.id, n: 0 }, child.stdin);
    process.send({ t: 'stdio', id: m.id, n: 1 }, child.stdout);
    process.send({ t: 'stdio', id: m.id, n: 2 }, child.stderr);
  });
  if (m.stdio === 'collect') {
    const out = [], err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.stdin.on('error', () => {});
    child.stdin.end(m.input);
    // 'close': the output has all been read.
    child.once('close', (code, signal) =>
      process.send({ t: 'exit', id: m.id, code, signal, output: { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() } }),
    );
  } else {
    child.once('exit', (code, signal) => process.send({ t: 'exit', id: m.id, code, signal }));
  }
});
`;
