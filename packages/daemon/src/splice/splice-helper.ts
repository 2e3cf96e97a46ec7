import { type ChildProcess, spawn } from 'node:child_process';
import { fstatSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';

/** How a handed-over connection ended, and the bytes the helper moved each way. */
export interface SpliceOutcome {
  aToB: number;
  bToA: number;
  outcome: 'ok' | 'cancelled' | 'idle' | 'eof' | 'error';
}

export interface SpliceHelperDeps {
  /** The static `paddock-splice` (packages/engine/agent/paddock-splice.c); undefined: every transfer stays in Node. */
  binary: string | undefined;
  logger: Logger;
}

interface Job {
  resolve: (answer: { aToB: number; bToA: number; outcome: string }) => void;
}

/** Node's socket internals the hand-over needs (net.js keeps `reading` to know whether libuv reads). */
interface SocketHandle {
  fd?: number;
  reading?: boolean;
  readStop?: () => number;
}

/**
 * Hands the bulk bytes of connections paddockd has decided on to
 * `paddock-splice`, one long-lived child that moves them with splice(2), so
 * they never pass through Node. The helper takes its own copies of the two
 * sockets by number (pidfd_getfd) and checks each is the socket named (its
 * inode); it never decides or reads anything. Everything before the
 * hand-over (policy, audit, the bytes paddockd must look at) and after it
 * (records, closing) stays here. When the helper cannot take a connection
 * (missing, not started, busy, refused) the caller keeps copying in Node.
 */
export class SpliceHelper {
  private child: ChildProcess | undefined;
  private ready: Promise<boolean> | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly deps: SpliceHelperDeps) {}

  /**
   * Joins `a` and `b` both ways until both directions ended (half-close is
   * passed on), an error, an idle limit, or either socket closing here.
   * Reads on both are stopped first and what Node had already read is sent
   * on by Node (counted in the sockets' own bytesWritten, not here).
   * Undefined: not taken; both read again once the caller pipes them.
   */
  async tunnel(a: Socket, b: Socket, idleMs: number): Promise<SpliceOutcome | undefined> {
    if (!handOverable(a) || !handOverable(b) || !(await this.start())) return undefined;
    holdReads(a);
    holdReads(b);
    const fromA = takeBuffered(a);
    const fromB = takeBuffered(b);
    if (fromA.length) b.write(fromA);
    if (fromB.length) a.write(fromB);
    await Promise.all([flushed(a), flushed(b)]);
    a.setTimeout(0);
    b.setTimeout(0);
    const outcome = await this.run(a, b, 't', idleMs);
    if (!outcome) {
      resumeReads(a);
      resumeReads(b);
    }
    return outcome;
  }

  /**
   * Moves exactly `bytes` from `from` to `to` (an answer's body), then leaves
   * both open. The caller has held `from`'s reads (holdReads) and sent what
   * Node had read of the body; `to` must have nothing left to write.
   * Undefined: not taken; `from` reads again.
   */
  async body(to: Socket, from: Socket, bytes: number): Promise<SpliceOutcome | undefined> {
    if (!handOverable(to) || !handOverable(from) || !(await this.start())) {
      resumeReads(from);
      return undefined;
    }
    await flushed(to);
    from.setTimeout(0);
    const outcome = await this.run(to, from, 'b', bytes);
    if (!outcome) resumeReads(from);
    return outcome;
  }

  /** Ends the helper and with it every connection it holds. */
  close(): void {
    this.closed = true;
    this.child?.kill('SIGKILL');
  }

  /** Jobs in flight, for tests that look for leaks. */
  get active(): number {
    return this.jobs.size;
  }

  private async run(a: Socket, b: Socket, mode: 't' | 'b', arg: number): Promise<SpliceOutcome | undefined> {
    const child = this.child;
    const fa = fdOf(a);
    const fb = fdOf(b);
    if (!child?.stdin || fa === undefined || fb === undefined || a.destroyed || b.destroyed) return undefined;
    let ia: number;
    let ib: number;
    try {
      ia = fstatSync(fa).ino;
      ib = fstatSync(fb).ino;
    } catch {
      return undefined;
    }
    const id = this.nextId++;
    const answer = new Promise<{ aToB: number; bToA: number; outcome: string }>((resolve) => this.jobs.set(id, { resolve }));
    // Either socket closed here (the sandbox ended, the daemon stops, a client left) ends the job.
    const cancel = () => {
      if (this.jobs.has(id)) child.stdin?.write(`C ${id}\n`);
    };
    a.once('close', cancel);
    b.once('close', cancel);
    child.stdin.write(`J ${id} ${fa} ${ia} ${fb} ${ib} ${mode} ${Math.max(0, Math.floor(arg))}\n`);
    const got = await answer;
    a.off('close', cancel);
    b.off('close', cancel);
    if ((got.outcome === 'busy' || got.outcome === 'badfd' || got.outcome === 'gone') && got.aToB === 0 && got.bToA === 0) {
      if (got.outcome !== 'gone') this.deps.logger.warn({ outcome: got.outcome }, 'the splice helper did not take a connection; Node copies it');
      return undefined;
    }
    const outcome = (['ok', 'cancelled', 'idle', 'eof'] as const).find((o) => o === got.outcome) ?? 'error';
    return { aToB: got.aToB, bToA: got.bToA, outcome };
  }

  /** Starts the helper once; false when there is none or it would not start (then Node copies). */
  private start(): Promise<boolean> {
    if (this.ready) return this.ready;
    const binary = this.deps.binary;
    if (!binary || this.closed) return Promise.resolve(false);
    this.ready = new Promise<boolean>((resolve) => {
      const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
      this.child = child;
      child.stdin?.on('error', () => {});
      child.once('error', (err) => {
        this.deps.logger.warn({ err }, 'the splice helper did not start; Node copies every connection');
        resolve(false);
      });
      child.once('exit', (code, signal) => {
        resolve(false);
        for (const [id, job] of this.jobs) {
          this.jobs.delete(id);
          job.resolve({ aToB: 0, bToA: 0, outcome: this.closed ? 'cancelled' : 'error' });
        }
        if (this.child === child) {
          this.child = undefined;
          // Started again on the next connection, unless the daemon is stopping.
          if (!this.closed) {
            this.deps.logger.warn({ code, signal }, 'the splice helper exited; its connections were closed');
            this.ready = undefined;
          }
        }
      });
      if (!child.stdout) return resolve(false);
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const [kind, id, ab, ba, outcome] = line.split(' ');
        if (kind !== 'D') return;
        if (id === '0') {
          if (outcome !== 'ready') this.deps.logger.warn({ outcome }, 'the splice helper cannot run here; Node copies every connection');
          return resolve(outcome === 'ready');
        }
        const job = this.jobs.get(Number(id));
        if (!job) return;
        this.jobs.delete(Number(id));
        job.resolve({ aToB: Number(ab), bToA: Number(ba), outcome: outcome ?? 'error' });
      });
    });
    return this.ready;
  }
}

/** A plain socket with a descriptor of its own: TLS (the bytes are Node's to decrypt) and closed ones are not. */
function handOverable(socket: Socket): boolean {
  return !socket.destroyed && !(socket as { encrypted?: boolean }).encrypted && fdOf(socket) !== undefined;
}

function handleOf(socket: Socket): SocketHandle | undefined {
  return (socket as unknown as { _handle?: SocketHandle | null })._handle ?? undefined;
}

function fdOf(socket: Socket): number | undefined {
  const fd = handleOf(socket)?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Stops Node reading a socket at once, so that every byte after this point is
 * the helper's. pause() alone is not enough: a paused stream still reads up
 * to its high-water mark. Marking the handle as reading keeps net.js from
 * starting it again (it starts only a handle it believes stopped).
 */
export function holdReads(socket: Socket): void {
  socket.pause();
  const handle = handleOf(socket);
  if (!handle?.readStop) return;
  if (handle.reading) handle.readStop();
  handle.reading = true;
}

/**
 * Undoes holdReads: the handle reads again at once, as net.js would start it.
 * (Waiting for the stream to ask is not enough: it may have asked while the
 * handle was held, and waits for that read to deliver before asking again.)
 * What is read lands in the stream's buffer, or goes to its 'data' listener
 * (an HTTP parser) once it flows.
 */
export function resumeReads(socket: Socket): void {
  const handle = handleOf(socket) as (SocketHandle & { readStart?: () => number }) | undefined;
  if (socket.destroyed || !handle?.readStart) return;
  handle.reading = true;
  if (handle.readStart() !== 0) return void socket.destroy();
  if (socket.listenerCount('data') > 0) socket.resume();
}

/** What Node had read and not yet passed on; read() also feeds any 'data' listener (an HTTP parser). */
export function takeBuffered(socket: Socket): Buffer {
  const chunks: Buffer[] = [];
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) chunks.push(chunk);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/** Resolves once everything written to the socket so far has reached the kernel. */
function flushed(socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => socket.write(Buffer.alloc(0), () => resolve()));
}
