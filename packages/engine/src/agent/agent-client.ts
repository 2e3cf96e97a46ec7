import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { PaddockError, PayloadTooLargeError, RuntimeError, SandboxExitedError, TimeoutError } from '@paddock/core';
import { agentFailure } from './agent-errors.js';
import {
  type AgentEntry,
  type AgentHello,
  decodeEntry,
  decodeHello,
  encodeFrame,
  encodeRequest,
  Frame,
  FrameReader,
  helloOfVersion0,
  maxFramePayload,
  maxHelloBytes,
  Op,
  RequestField,
} from './agent-protocol.js';

export interface AgentCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ExecRequest {
  cmd: string[];
  /** Complete environment as K=V strings; the agent adds HOME/USER/PATH defaults if missing. */
  env: string[];
  cwd?: string;
  user?: string;
  pty?: { cols: number; rows: number };
  /** Kept by the agent beside the command and returned by processes(): what a restarted daemon needs to know of it. */
  meta?: string;
}

export interface ExecHandlers {
  onStdout?: (data: Buffer) => void;
  onStderr?: (data: Buffer) => void;
  /** Output the agent no longer kept when this connection attached: `bytes` of `stream` are missing here. */
  onDropped?: (stream: 'stdout' | 'stderr', bytes: number) => void;
}

/** A command the agent supervises, as processes() lists it. */
export interface AgentProcess {
  pid: number;
  exit: ExecExit | null;
  /** Bytes of each stream the command wrote in all. */
  written: { stdout: number; stderr: number };
  /** The request's meta, as given to exec (sandbox-made: untrusted). */
  meta: string;
}

/** Commands listed at most: each is a process of the sandbox, so its pids limit bounds them anyway. */
const maxAgentProcesses = 1024;
/** The agent's answer for one command: its line and at most 64 KiB of meta (MAX_META in paddock-agent.c). */
const maxProcessEntryBytes = 65_536 + 512;

export interface ExecExit {
  exitCode: number;
  /** Number of the signal that ended the process, 0 if it exited. */
  signal: number;
}

/** A running command inside a sandbox, driven over one agent connection. */
export interface ExecSession {
  readonly pid: number;
  readonly exited: Promise<ExecExit>;
  /**
   * Sends stdin; resolves once the connection can take more (await it to respect back-pressure).
   * Writes made before an earlier one resolved are sent after it, whole: their bytes never interleave.
   */
  write(data: Buffer | string): Promise<void>;
  /** Ends stdin, after every write made before it. */
  closeStdin(): void;
  signal(signo: number): void;
  resize(cols: number, rows: number): void;
  /** Stops reading output until resume(): back-pressure reaches the process. */
  pause(): void;
  resume(): void;
  /** Drops the connection; the process keeps running inside the sandbox. */
  detach(): void;
}

/**
 * How long a connection opened ahead of time waits for its operation; then it
 * is closed and the agent's handler waiting on it exits.
 */
const spareIdleMs = 30_000;

/** Talks to one sandbox's agent through the unix socket the daemon bind-mounted into it. */
export class AgentClient {
  private helloAnswer: Promise<AgentHello> | undefined;
  /**
   * A connection the agent has accepted but no operation uses yet: its handler
   * is forked and waits for a request. Opened when an operation ends, it spares
   * the next one the connect, the accept and the fork (a fork costs 2-3 ms
   * under gVisor). Only for sandboxes in use: a readiness ping makes none.
   */
  private spare: { socket: Socket; release: () => void } | undefined;
  private closed = false;

  constructor(
    private readonly socketPath: string,
    private readonly sandboxId: string,
  ) {}

  /**
   * The protocol version and features of the sandbox's agent, asked once and
   * kept (the agent of a running sandbox does not change); a failed ask is
   * asked again next time. An agent from before `hello` is version 0.
   */
  hello(options: AgentCallOptions = {}): Promise<AgentHello> {
    if (!this.helloAnswer) {
      const asked = this.askHello(options);
      this.helloAnswer = asked;
      asked.catch(() => {
        if (this.helloAnswer === asked) this.helloAnswer = undefined;
      });
    }
    return this.helloAnswer;
  }

  private async askHello(options: AgentCallOptions): Promise<AgentHello> {
    const conn = await this.open([[RequestField.op, Op.hello]], options);
    let payloads: Buffer[];
    try {
      payloads = await conn.collectPayloads(1, maxHelloBytes);
    } catch (err) {
      // An agent that does not know the operation refuses it as invalid.
      if (err instanceof PaddockError && err.details.errno === 'EINVAL') return helloOfVersion0;
      throw err;
    }
    const [payload] = payloads;
    if (!payload) throw new RuntimeError('the sandbox agent sent no hello', {}, 'agent_protocol_error');
    return decodeHello(payload);
  }

  /** Forgets the sandbox: a connection opened ahead of time is closed, and none is opened again. */
  close(): void {
    this.closed = true;
    this.spare?.socket.destroy();
    this.spare = undefined;
  }

  async ping(options: AgentCallOptions = {}): Promise<void> {
    const conn = await this.open([[RequestField.op, Op.ping]], options);
    await conn.collect();
  }

  async exec(request: ExecRequest, handlers: ExecHandlers, options: AgentCallOptions = {}): Promise<ExecSession> {
    const fields: Array<[string, string]> = [[RequestField.op, Op.exec]];
    for (const arg of request.cmd) fields.push([RequestField.arg, arg]);
    for (const kv of request.env) fields.push([RequestField.env, kv]);
    if (request.cwd) fields.push([RequestField.cwd, request.cwd]);
    if (request.user) fields.push([RequestField.user, request.user]);
    if (request.pty) fields.push([RequestField.pty, `${request.pty.cols} ${request.pty.rows}`]);
    if (request.meta) fields.push([RequestField.meta, request.meta]);
    return this.session(await this.open(fields, options, 'answer'), handlers);
  }

  /**
   * Joins a command the agent supervises (one a previous daemon started): the
   * output kept from these stream offsets on arrives first, then live output
   * and the exit, as for exec.
   */
  async attach(pid: number, from: { stdout: number; stderr: number }, handlers: ExecHandlers, options: AgentCallOptions = {}): Promise<ExecSession> {
    const fields: Array<[string, string]> = [
      [RequestField.op, Op.attach],
      [RequestField.target, String(pid)],
      [RequestField.offsets, `${from.stdout} ${from.stderr}`],
    ];
    return this.session(await this.open(fields, options, 'answer'), handlers);
  }

  /** The commands the agent supervises, running or exited and not yet collected. */
  async processes(options: AgentCallOptions = {}): Promise<AgentProcess[]> {
    const conn = await this.open([[RequestField.op, Op.procs]], options);
    const payloads = await conn.collectPayloads(maxAgentProcesses, maxProcessEntryBytes);
    const seen = new Set<number>();
    return payloads.flatMap((p) => {
      const parsed = parseAgentProcess(p);
      if (!parsed || seen.has(parsed.pid)) return [];
      seen.add(parsed.pid);
      return [parsed];
    });
  }

  private async session(conn: AgentConnection, handlers: ExecHandlers): Promise<ExecSession> {
    const socket = conn.socket;
    let resolveExit!: (e: ExecExit) => void;
    let rejectExit!: (e: Error) => void;
    const exited = new Promise<ExecExit>((res, rej) => {
      resolveExit = res;
      rejectExit = rej;
    });
    exited.catch(() => {});
    const pid = await new Promise<number>((resolve, reject) => {
      let started = false;
      conn.onFrame = (type, payload) => {
        if (type === Frame.started) {
          started = true;
          resolve(Number(payload.toString()));
        } else if (type === Frame.stdout) handlers.onStdout?.(payload);
        else if (type === Frame.stderr) handlers.onStderr?.(payload);
        else if (type === Frame.dropped) {
          const m = /^(stdout|stderr) (\d{1,15})$/.exec(payload.toString());
          if (m) handlers.onDropped?.(m[1] as 'stdout' | 'stderr', Number(m[2]));
        } else if (type === Frame.exit) {
          const [code, sig] = payload.toString().split(' ').map(Number);
          resolveExit({ exitCode: code ?? -1, signal: sig ?? 0 });
          // Told it was received, the agent lets the command go; until then it keeps the exit for a daemon that re-attaches.
          socket.end(encodeFrame(Frame.collect));
        } else if (type === Frame.fail) {
          const err = agentFailure(payload.toString());
          if (started) rejectExit(err);
          else reject(err);
          socket.end();
        }
      };
      conn.onClose = (err) => {
        const lost = asPaddockError(err) ?? new SandboxExitedError(this.sandboxId, `sandbox ${this.sandboxId} stopped while the command ran`);
        if (!started) reject(lost);
        rejectExit(lost);
      };
    });
    const send = (type: string, payload?: Buffer | string) => {
      if (!socket.destroyed && socket.writable) socket.write(encodeFrame(type, payload));
    };
    // Stdin's bytes and its end go out in the order asked: a write larger than a frame waits for the socket between
    // frames, and what is asked meanwhile waits its turn. With nothing waiting, a write begins at once.
    let last: Promise<void> | undefined;
    const inTurn = (work: () => Promise<void> | void): Promise<void> => {
      const done = last ? last.then(work) : (async () => work())();
      const settled = done.catch(() => {});
      last = settled;
      void settled.then(() => {
        if (last === settled) last = undefined;
      });
      return done;
    };
    return {
      pid,
      exited,
      write: (data) => inTurn(() => writeDataFrames(socket, typeof data === 'string' ? Buffer.from(data) : data)),
      closeStdin: () => void inTurn(() => send(Frame.eofIn)),
      signal: (signo) => send(Frame.signal, String(signo)),
      resize: (cols, rows) => send(Frame.resize, `${cols} ${rows}`),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      detach: () => socket.destroy(),
    };
  }

  /** Streams a file out of the sandbox. The entry arrives before any data. */
  async readFile(path: string, user: string | undefined, options: AgentCallOptions = {}): Promise<{ entry: AgentEntry; body: Readable }> {
    const conn = await this.open(fileFields(Op.read, path, user), options, 'answer');
    const body = new Readable({ read: () => conn.socket.resume() });
    return new Promise((resolve, reject) => {
      let entry: AgentEntry | undefined;
      conn.onFrame = (type, payload) => {
        if (type === Frame.entry) {
          entry = decodeEntry(payload);
          resolve({ entry, body });
        } else if (type === Frame.stdout) {
          if (!body.push(Buffer.from(payload))) conn.socket.pause();
        } else if (type === Frame.exit) {
          if (!entry) {
            reject(new RuntimeError('the sandbox agent answered out of order', {}, 'agent_protocol_error'));
            conn.socket.destroy();
            return;
          }
          body.push(null);
          conn.socket.end();
        } else if (type === Frame.fail) {
          const err = agentFailure(payload.toString());
          if (entry) body.destroy(err);
          else reject(err);
          conn.socket.end();
        }
      };
      conn.onClose = (err) => {
        const lost = asPaddockError(err) ?? new RuntimeError('agent connection closed during read');
        if (!entry) reject(lost);
        else if (!body.readableEnded) body.destroy(lost);
      };
      body.on('close', () => conn.socket.destroy());
    });
  }

  /** Streams data into a file; the agent renames it into place only once complete. */
  async writeFile(
    path: string,
    source: AsyncIterable<Uint8Array> | Uint8Array,
    opts: { user?: string; mode?: number } & AgentCallOptions = {},
  ): Promise<AgentEntry> {
    const fields = fileFields(Op.write, path, opts.user);
    if (opts.mode !== undefined) fields.push([RequestField.mode, opts.mode.toString(8)]);
    const conn = await this.open(fields, opts, 'answer');
    // The agent answers "ready" once the target can be written, or refuses.
    await new Promise<void>((resolve, reject) => {
      conn.onFrame = (type, payload) => {
        if (type === Frame.started) return resolve();
        reject(
          type === Frame.fail ? agentFailure(payload.toString()) : new RuntimeError('the sandbox agent answered out of order', {}, 'agent_protocol_error'),
        );
        conn.socket.end();
      };
      conn.onClose = (err) => reject(asPaddockError(err) ?? new RuntimeError('agent connection closed before the upload started'));
    });
    const result = conn.collect();
    result.catch(() => {});
    const socket = conn.socket;
    try {
      if (source instanceof Uint8Array) await writeDataFrames(socket, source);
      else
        for await (const chunk of source) {
          if (socket.destroyed) break;
          await writeDataFrames(socket, chunk);
        }
      if (!socket.destroyed) socket.write(encodeFrame(Frame.eofIn));
    } catch (err) {
      // Without an EOF frame the agent discards its temporary file.
      socket.destroy();
      throw err;
    }
    const { entries } = await result;
    const entry = entries[0];
    if (!entry) throw new RuntimeError('agent did not report the written file');
    return entry;
  }

  async list(path: string, user?: string, options: AgentCallOptions = {}): Promise<AgentEntry[]> {
    return (await (await this.open(fileFields(Op.list, path, user), options)).collect()).entries;
  }

  async stat(path: string, user?: string, options: AgentCallOptions = {}): Promise<AgentEntry> {
    return firstEntry(await (await this.open(fileFields(Op.stat, path, user), options)).collect());
  }

  async mkdir(path: string, user?: string, options: AgentCallOptions = {}): Promise<AgentEntry> {
    return firstEntry(await (await this.open(fileFields(Op.mkdir, path, user), options)).collect());
  }

  async remove(path: string, recursive: boolean, user?: string, options: AgentCallOptions = {}): Promise<void> {
    const fields = fileFields(Op.remove, path, user);
    fields.push([RequestField.recursive, recursive ? '1' : '0']);
    await (await this.open(fields, options)).collect();
  }

  async rename(from: string, to: string, user?: string, options: AgentCallOptions = {}): Promise<AgentEntry> {
    const fields = fileFields(Op.rename, from, user);
    fields.push([RequestField.path2, to]);
    return firstEntry(await (await this.open(fields, options)).collect());
  }

  /**
   * `covers` says what the timeout bounds: the whole exchange (short
   * operations), or only the agent's first answer (commands and transfers,
   * which may rightly last long). A sandbox can run a fake agent, so every
   * exchange is bounded by one or the other.
   */
  private async open(fields: Array<[string, string]>, options: AgentCallOptions, covers: 'whole' | 'answer' = 'whole'): Promise<AgentConnection> {
    const { socket, settle } = await this.dial(fields, options);
    return new AgentConnection(socket, covers, settle);
  }

  /**
   * A TCP connection to `port` on the sandbox's loopback, made by the agent
   * inside the sandbox's network namespace: the socket returned carries the
   * stream's raw bytes both ways. The timeout bounds the agent's answer only.
   * A port nobody listens on fails with the agent's ECONNREFUSED.
   */
  async connect(port: number, options: AgentCallOptions = {}): Promise<Socket> {
    const { socket, settle } = await this.dial(
      [
        [RequestField.op, Op.connect],
        [RequestField.target, String(port)],
      ],
      options,
    );
    return new Promise((resolve, reject) => {
      let pending: Buffer = Buffer.alloc(0);
      const finish = () => {
        socket.off('readable', onReadable);
        socket.off('close', onClose);
        settle();
      };
      // Read with 'readable', not 'data': once the answer is taken the stream is left
      // neither flowing nor paused, so whoever takes it next starts it by listening.
      const onReadable = () => {
        for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
          pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
          if (pending.length < 5) continue;
          const len = pending.readUInt32BE(1);
          // The answer is a start or a one-line failure; anything longer is a sandbox making us buffer.
          if (len > maxConnectAnswerBytes) {
            finish();
            socket.destroy();
            return reject(new RuntimeError('the sandbox agent answered out of order', {}, 'agent_protocol_error'));
          }
          if (pending.length < 5 + len) continue;
          finish();
          const type = String.fromCharCode(pending[0] as number);
          const rest = pending.subarray(5 + len);
          if (type === Frame.started) {
            // The stream's first bytes may have come in the same read as the answer.
            if (rest.length > 0) socket.unshift(rest);
            return resolve(socket);
          }
          socket.destroy();
          return reject(
            type === Frame.fail
              ? agentFailure(pending.subarray(5, 5 + len).toString())
              : new RuntimeError('the sandbox agent answered out of order', {}, 'agent_protocol_error'),
          );
        }
      };
      const onClose = () => {
        finish();
        reject(
          asPaddockError(socket.errored ?? undefined) ??
            new SandboxExitedError(this.sandboxId, `sandbox ${this.sandboxId} stopped before the connection opened`),
        );
      };
      // Whoever takes the stream watches it close; an error alone must not end the daemon.
      socket.on('error', () => {});
      socket.on('readable', onReadable);
      socket.on('close', onClose);
    });
  }

  /** Connects to the agent and sends the request; `settle` ends the timeout and abort watch once the caller has its answer. */
  private dial(fields: Array<[string, string]>, options: AgentCallOptions): Promise<{ socket: Socket; settle: () => void }> {
    // Encoded before connecting: a refused field (a NUL byte, too large) is the caller's error, thrown here.
    const request = encodeRequest(fields);
    const op = fields[0]?.[1];
    // A ping is answered by the agent's accept loop (and must reach it, not a handler forked earlier), hello is asked
    // once, and procs by a daemon adopting every sandbox at its start: none of them says that a sandbox is in use.
    const inUse = op !== Op.ping && op !== Op.hello && op !== Op.procs;
    const spare = inUse ? this.takeSpare() : undefined;
    return spare ? this.sendAhead(spare, request, options) : this.connectAndSend(request, inUse, options);
  }

  /**
   * Sends the request on the connection opened ahead. Its handler may have
   * died since (killed inside the sandbox) before the daemon heard of it: a
   * request the kernel refused was read by nobody, so the call connects afresh.
   */
  private sendAhead(spare: Socket, request: Buffer, options: AgentCallOptions): Promise<{ socket: Socket; settle: () => void }> {
    return new Promise((resolve, reject) => {
      const settle = this.watchCall(spare, options);
      spare.write(request, (err) => {
        if (!err) {
          spare.once('close', () => this.openSpare());
          resolve({ socket: spare, settle });
          return;
        }
        settle();
        spare.destroy();
        // The call's own timeout or abort ended it: no second try.
        if (spare.errored instanceof TimeoutError) return reject(spare.errored);
        if (options.signal?.aborted) return reject(new TimeoutError('request aborted'));
        this.connectAndSend(request, true, options).then(resolve, reject);
      });
    });
  }

  private connectAndSend(request: Buffer, inUse: boolean, options: AgentCallOptions): Promise<{ socket: Socket; settle: () => void }> {
    return new Promise((resolve, reject) => {
      let socket: Socket;
      try {
        socket = connectNoFollow(this.socketPath);
      } catch (err) {
        reject(new SandboxExitedError(this.sandboxId, `sandbox ${this.sandboxId} is not reachable: ${(err as Error).message}`));
        return;
      }
      const settle = this.watchCall(socket, options);
      socket.once('connect', () => {
        if (inUse) socket.once('close', () => this.openSpare());
        socket.write(request);
        resolve({ socket, settle });
      });
      socket.once('error', (err) => {
        settle();
        reject(err instanceof TimeoutError ? err : new SandboxExitedError(this.sandboxId, `sandbox ${this.sandboxId} is not reachable: ${err.message}`));
      });
    });
  }

  /** Bounds a call by its timeout and abort signal; the returned `settle` stops watching. */
  private watchCall(socket: Socket, options: AgentCallOptions): () => void {
    const timer = options.timeoutMs
      ? setTimeout(() => socket.destroy(new TimeoutError(`sandbox ${this.sandboxId} agent did not answer in ${options.timeoutMs} ms`)), options.timeoutMs)
      : undefined;
    const onAbort = () => socket.destroy(new TimeoutError('request aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    return () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
  }

  /**
   * The connection opened ahead, if it is connected, open and still quiet: an
   * agent says nothing unasked, and bytes that came anyway (an agent that
   * could not fork a handler for it says so and hangs up) answer no call.
   */
  private takeSpare(): Socket | undefined {
    const spare = this.spare;
    if (!spare) return undefined;
    const { socket } = spare;
    if (socket.pending || socket.destroyed || !socket.writable) return undefined;
    this.spare = undefined;
    spare.release();
    if (socket.readableLength > 0 || socket.readableEnded) {
      socket.destroy();
      return undefined;
    }
    socket.ref();
    return socket;
  }

  /** Connects ahead of the next operation (see `spare`); a failure only leaves the next call to connect itself. */
  private openSpare(): void {
    if (this.closed || this.spare) return;
    let socket: Socket;
    try {
      socket = connectNoFollow(this.socketPath);
    } catch {
      return;
    }
    const drop = () => {
      if (this.spare?.socket === socket) this.spare = undefined;
      clearTimeout(idle);
      socket.destroy();
    };
    const idle = setTimeout(drop, spareIdleMs).unref();
    // Waiting, it keeps no process alive (a daemon stopping, a program using the engine); taken, it does again.
    socket.unref();
    // Errors end in 'close'; without a listener one would end the daemon.
    socket.on('error', () => {});
    // Its handler gone (killed in the sandbox, or the sandbox ended): the socket closes by itself and is forgotten.
    socket.once('close', drop);
    this.spare = {
      socket,
      release: () => {
        clearTimeout(idle);
        socket.off('close', drop);
      },
    };
  }
}

/** One agent operation: frames in, completion out. */
class AgentConnection {
  onFrame: (type: string, payload: Buffer) => void = () => {};
  onClose: (err?: Error) => void = () => {};
  private finished = false;

  constructor(
    readonly socket: Socket,
    covers: 'whole' | 'answer',
    done: () => void,
  ) {
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      if (covers === 'answer') done();
      let frames: Array<{ type: string; payload: Buffer }>;
      try {
        frames = reader.push(chunk);
      } catch (err) {
        socket.destroy(err as Error);
        return;
      }
      for (const f of frames) {
        if (f.type === Frame.exit || f.type === Frame.fail) {
          this.finished = true;
          done();
        }
        try {
          this.onFrame(f.type, f.payload);
        } catch (err) {
          // A frame the agent would never send (malformed entry): the call fails with that, the daemon goes on.
          this.finished = false;
          socket.destroy(err as Error);
          return;
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      done();
      if (!this.finished) this.onClose(socket.errored ?? undefined);
    });
  }

  /**
   * Waits for the end of an operation and gathers the payloads of its entry
   * frames: more than `limit` is refused, one over `maxBytes` left out.
   */
  collectPayloads(limit: number, maxBytes: number): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const payloads: Buffer[] = [];
      this.onFrame = (type, payload) => {
        if (type === Frame.entry) {
          if (payload.length <= maxBytes) payloads.push(Buffer.from(payload));
          if (payloads.length > limit) {
            this.finished = true;
            this.socket.destroy();
            reject(new PayloadTooLargeError(limit));
          }
        } else if (type === Frame.exit) {
          this.socket.end();
          resolve(payloads);
        } else if (type === Frame.fail) {
          this.socket.end();
          reject(agentFailure(payload.toString()));
        }
      };
      this.onClose = (err) => reject(asPaddockError(err) ?? new RuntimeError('agent connection closed early'));
    });
  }

  /** Waits for the end of a non-streaming operation and gathers its entries. */
  collect(): Promise<{ entries: AgentEntry[] }> {
    return new Promise((resolve, reject) => {
      const entries: AgentEntry[] = [];
      this.onFrame = (type, payload) => {
        if (type === Frame.entry) {
          entries.push(decodeEntry(payload));
          if (entries.length > maxEntries) {
            this.finished = true;
            this.socket.destroy();
            reject(new PayloadTooLargeError(maxEntries));
          }
        } else if (type === Frame.exit) {
          this.socket.end();
          resolve({ entries });
        } else if (type === Frame.fail) {
          this.socket.end();
          reject(agentFailure(payload.toString()));
        }
      };
      this.onClose = (err) => reject(asPaddockError(err) ?? new RuntimeError('agent connection closed early'));
    });
  }
}

const O_PATH = 0o10000000;
/** The agent's answer to connect: an empty start frame or a one-line failure. */
const maxConnectAnswerBytes = 4096;
/** More directory entries than this in one listing is refused rather than held in memory. */
const maxEntries = 100_000;

/**
 * The socket lives in a folder the sandbox can write to, so its root could put
 * a symlink there pointing at a host socket. Opening the path without
 * following links and connecting through /proc/self/fd reaches only a real
 * socket in that folder. The descriptor naming it holds the sandbox's file
 * system (a disk-backed layer could not be unmounted): it is closed once the
 * socket connects, or however it ends (destroyed while connecting, it emits
 * neither 'connect' nor 'error').
 */
function connectNoFollow(path: string): Socket {
  const fd = openSocketNoFollow(path);
  const socket = connect(`/proc/self/fd/${fd}`);
  let fdOpen = true;
  const closeFd = () => {
    if (fdOpen) closeSync(fd);
    fdOpen = false;
  };
  socket.once('connect', closeFd);
  socket.once('close', closeFd);
  return socket;
}

function openSocketNoFollow(path: string): number {
  // libuv adds O_CLOEXEC itself.
  const fd = openSync(path, O_PATH | constants.O_NOFOLLOW);
  if (!fstatSync(fd).isSocket()) {
    closeSync(fd);
    throw new Error(`${path} is not a socket`);
  }
  return fd;
}

/** Sends `bytes` as data frames, waiting for the socket to drain when it asks; stops quietly once the socket is gone. */
async function writeDataFrames(socket: Socket, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length; off += maxFramePayload) {
    if (socket.destroyed || !socket.writable) return;
    const frame = encodeFrame(Frame.dataIn, Buffer.from(bytes.buffer, bytes.byteOffset + off, Math.min(maxFramePayload, bytes.length - off)));
    if (!socket.write(frame)) await drainedOrClosed(socket);
  }
}

/** Resolves when the socket can take more or has closed, leaving no listener behind (a long stream waits thousands of times). */
function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Socket errors (resets, broken pipes) become typed errors the API can report. */
function asPaddockError(err: Error | undefined): PaddockError | undefined {
  if (!err || err instanceof PaddockError) return err as PaddockError | undefined;
  return new RuntimeError(`lost the connection to the sandbox agent: ${err.message}`, {}, 'agent_connection_lost');
}

/** One line of the agent's process list: "pid state code signal outTotal outStart errTotal errStart\nmeta". */
function parseAgentProcess(payload: Buffer): AgentProcess | undefined {
  const text = payload.toString();
  const nl = text.indexOf('\n');
  const head = /^(\d{1,10}) (running|exited) (-|\d{1,3}) (-|\d{1,3}) (\d{1,15}) \d{1,15} (\d{1,15}) \d{1,15}$/.exec(nl < 0 ? text : text.slice(0, nl));
  if (!head) return undefined;
  return {
    pid: Number(head[1]),
    exit: head[2] === 'exited' ? { exitCode: Number(head[3]), signal: Number(head[4]) } : null,
    written: { stdout: Number(head[5]), stderr: Number(head[6]) },
    meta: nl < 0 ? '' : text.slice(nl + 1),
  };
}

function fileFields(op: string, path: string, user: string | undefined): Array<[string, string]> {
  const fields: Array<[string, string]> = [
    [RequestField.op, op],
    [RequestField.path, path],
  ];
  if (user) fields.push([RequestField.user, user]);
  return fields;
}

function firstEntry(result: { entries: AgentEntry[] }): AgentEntry {
  const entry = result.entries[0];
  if (!entry) throw new RuntimeError('agent returned no entry');
  return entry;
}
