import { randomBytes } from 'node:crypto';
import { UnavailableError } from '@paddock/core';
import type { ExecSession } from '@paddock/engine';
import { z } from 'zod';

/** The longest header line read before its newline: a few hundred bytes in practice. */
const maxHeaderBytes = 16 * 1024;

const HeaderSchema = z.object({
  len: z.number().int().min(0),
  id: z.string().nullish(),
  error: z.string().max(64).optional(),
  message: z.string().max(4096).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type HelperHeader = z.infer<typeof HeaderSchema>;

interface Waiter {
  /** A random id the helper echoes: bytes another process writes into the pipe cannot name it. */
  id: string;
  maxBytes: number;
  resolve(answer: { header: HelperHeader; payload: Buffer }): void;
  reject(err: Error): void;
}

/**
 * One desktop helper running in a sandbox, and the framing of its answers
 * (a JSON header line, then `len` bytes). Requests go one at a time. The
 * helper's stdout is the sandbox's to write (any process there may reach its
 * pipe): bytes nobody asked for, a header that does not parse or a length
 * over the bound break the session, which is killed; the next call starts a
 * new helper.
 */
export class HelperSession {
  /** What came of the answer under way, joined once it is whole (a screenshot comes in many chunks). */
  private chunks: Buffer[] = [];
  private received = 0;
  /** The answer's header once its line came, and where its bytes start in what came. */
  private answer: { header: HelperHeader; start: number } | undefined;
  private waiter: Waiter | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  broken: Error | undefined;
  /** True when the session broke on bytes that were not a well-framed answer (anything in the sandbox may write them). */
  spoiled = false;
  /** The helper's exit status once it ended (127: no python3). */
  exitStatus: number | undefined;

  constructor(
    private readonly session: ExecSession,
    /** The environment it was started with (a claimed pool sandbox's may have changed since). */
    readonly env: readonly string[] = [],
  ) {
    session.exited.then(
      (exit) => {
        this.exitStatus = exit.exitCode;
        this.break(new UnavailableError(`the desktop helper ended (${exit.signal ? `signal ${exit.signal}` : `status ${exit.exitCode}`})`));
      },
      (err: Error) => this.break(err),
    );
  }

  /** Feeds the helper's stdout. */
  output(data: Buffer): void {
    if (this.broken) return;
    if (!this.waiter) {
      this.spoil(new UnavailableError('the desktop helper wrote when nothing was asked'));
      return;
    }
    this.chunks.push(data);
    this.received += data.length;
    // Joined now and then, so a writer trickling bytes cannot make the daemon hold a Buffer object for each.
    if (this.chunks.length > 256) this.chunks = [Buffer.concat(this.chunks)];
    this.parse();
  }

  /** Sends one request and waits for its answer; a timeout or an abort breaks the session. */
  request(request: Record<string, unknown>, maxBytes: number, timeoutMs: number, signal?: AbortSignal): Promise<{ header: HelperHeader; payload: Buffer }> {
    const run = this.queue.then(() => this.send(request, maxBytes, timeoutMs, signal));
    this.queue = run.catch(() => {});
    return run;
  }

  kill(): void {
    this.break(new UnavailableError('the desktop helper was stopped'));
  }

  private send(
    request: Record<string, unknown>,
    maxBytes: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ header: HelperHeader; payload: Buffer }> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.break(new UnavailableError(`the desktop helper did not answer within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = () => this.break(new UnavailableError('the call was cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
      };
      const id = randomBytes(12).toString('hex');
      this.waiter = {
        id,
        maxBytes,
        resolve: (answer) => {
          settle();
          resolve(answer);
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      };
      this.session.write(`${JSON.stringify({ ...request, id })}\n`).catch((err: Error) => this.break(err));
    });
  }

  private parse(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    if (!this.answer) {
      const head = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
      this.chunks = [head];
      const nl = head.indexOf(0x0a);
      if (nl < 0) {
        if (head.length > maxHeaderBytes) this.spoil(new UnavailableError('the desktop helper wrote a header too long'));
        return;
      }
      let header: HelperHeader;
      try {
        header = HeaderSchema.parse(JSON.parse(head.subarray(0, nl).toString('utf8')));
      } catch {
        this.spoil(new UnavailableError('the desktop helper wrote a header that does not parse'));
        return;
      }
      if (header.id !== waiter.id) {
        this.spoil(new UnavailableError('the desktop helper answered with another request id'));
        return;
      }
      if (header.len > waiter.maxBytes) {
        this.spoil(new UnavailableError(`the desktop helper answered more than ${waiter.maxBytes} bytes`));
        return;
      }
      this.answer = { header, start: nl + 1 };
    }
    const { header, start } = this.answer;
    if (this.received < start + header.len) return;
    if (this.received > start + header.len) {
      this.spoil(new UnavailableError('the desktop helper wrote more than its answer'));
      return;
    }
    const payload = Buffer.concat(this.chunks).subarray(start);
    this.reset();
    waiter.resolve({ header, payload });
  }

  private reset(): void {
    this.chunks = [];
    this.received = 0;
    this.answer = undefined;
  }

  private spoil(err: Error): void {
    this.spoiled = true;
    this.break(err);
  }

  private break(err: Error): void {
    if (!this.broken) {
      this.broken = err;
      try {
        this.session.signal(9);
      } catch {
        // Already gone with its sandbox or connection.
      }
    }
    this.waiter?.reject(err);
  }
}
