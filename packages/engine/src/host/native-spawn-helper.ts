import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Where `make build` puts agent/paddock-spawn.c's binary (the same path from the sources and from dist/). */
export const nativeSpawnHelperPath = fileURLToPath(new URL('../../dist/host/paddock-spawn', import.meta.url));

const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const signalNames = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** What the helper tells about a process it was asked to start (a LeanChild). */
export interface SpawnedProcess {
  started(pid: number): void;
  failed(err: Error): void;
  exited(code: number | null, signal: NodeJS.Signals | null, output?: { stdout: string; stderr: string }): void;
  /** The helper died before telling how it ended. */
  lost(): void;
}

export interface NativeRequest {
  file: string;
  args: readonly string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  detached: boolean;
  collect: boolean;
  input?: string;
}

/**
 * The daemon's side of paddock-spawn (agent/paddock-spawn.c), which starts
 * programs with posix_spawn and gathers their output: what LeanSpawner uses
 * for programs whose stdio is ignored or gathered (runc, mounts, network
 * setup). Its frames are described in the C file.
 */
export class NativeSpawnHelper {
  private process: ChildProcess | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private readonly children = new Map<number, { child: SpawnedProcess; file: string; collect: boolean }>();
  private nextId = 1;

  static available(): boolean {
    return existsSync(nativeSpawnHelperPath);
  }

  spawn(child: SpawnedProcess, request: NativeRequest): void {
    const frame = encodeRequest(this.nextId, request);
    if (!frame) {
      queueMicrotask(() =>
        child.failed(Object.assign(new Error(`spawn ${request.file}: an argument or variable holds a NUL byte`), { code: 'ERR_INVALID_ARG_VALUE' })),
      );
      return;
    }
    const id = this.nextId++;
    this.children.set(id, { child, file: request.file, collect: request.collect });
    const helper = this.ensureProcess();
    // While a child is out, the helper's output keeps this process alive (its end is awaited); idle, it does not.
    (helper.stdout as Socket | null)?.ref();
    helper.stdin?.write(frame);
  }

  stop(): void {
    this.process?.stdin?.end();
    this.process = undefined;
  }

  private ensureProcess(): ChildProcess {
    if (this.process) return this.process;
    const helper = spawn(nativeSpawnHelperPath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    helper.stdout?.on('data', (chunk: Buffer) => this.read(chunk));
    helper.stdin?.on('error', () => {});
    helper.on('error', () => {});
    helper.on('exit', () => {
      if (this.process === helper) this.process = undefined;
      this.pending = Buffer.alloc(0);
      // Nobody can tell how these end now: they are killed.
      for (const [id, { child }] of this.children) {
        this.children.delete(id);
        child.lost();
      }
    });
    helper.unref();
    (helper.stdout as Socket | null)?.unref();
    this.process = helper;
    return helper;
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 4) {
      const size = this.pending.readUInt32LE(0);
      if (this.pending.length < 4 + size) break;
      this.answer(this.pending.subarray(4, 4 + size));
      this.pending = this.pending.subarray(4 + size);
    }
  }

  private answer(frame: Buffer): void {
    const kind = String.fromCharCode(frame[0] ?? 0);
    const id = frame.readUInt32LE(1);
    const a = frame.readInt32LE(5);
    const b = frame.readInt32LE(9);
    const entry = this.children.get(id);
    if (!entry) return;
    if (kind === 's') {
      entry.child.started(a);
      return;
    }
    this.children.delete(id);
    if (this.children.size === 0) (this.process?.stdout as Socket | null | undefined)?.unref();
    if (kind === 'e') {
      const code = errnoNames.get(a) ?? `errno ${a}`;
      entry.child.failed(Object.assign(new Error(`spawn ${entry.file} ${code}`), { code, errno: -a }));
      return;
    }
    let output: { stdout: string; stderr: string } | undefined;
    if (entry.collect) {
      const n = frame.readUInt32LE(13);
      output = { stdout: frame.toString('utf8', 17, 17 + n), stderr: frame.toString('utf8', 17 + n) };
    }
    entry.child.exited(a === -1 ? null : a, b ? (signalNames.get(b) ?? null) : null, output);
  }
}

/** The request's frame, or undefined when a string holds a NUL (it could not be told apart from the separators). */
function encodeRequest(id: number, request: NativeRequest): Buffer | undefined {
  const env = Object.entries(request.env)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${value}`);
  const strings = [request.file, request.cwd ?? '', ...request.args, ...env];
  if (strings.some((s) => s.includes('\0'))) return undefined;
  const body = Buffer.from(`${strings.join('\0')}\0${request.input ?? ''}`);
  const head = Buffer.alloc(18);
  head.writeUInt32LE(14 + body.length, 0);
  head.writeUInt32LE(id, 4);
  head.writeUInt8(request.collect ? 1 : 0, 8);
  head.writeUInt8(request.detached ? 1 : 0, 9);
  head.writeUInt32LE(request.args.length, 10);
  head.writeUInt32LE(env.length, 14);
  return Buffer.concat([head, body]);
}
