import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/** A recording stops growing here: a sandbox printing without end must not fill the daemon's disk. */
export const maxCastBytes = 64 * 1024 * 1024;

/**
 * Writes a terminal session as asciicast v2: a JSON header line, then one
 * `[seconds, "o" | "i", text]` line per chunk of output or input. Lines are
 * written in order, one at a time; bytes and the SHA-256 cover exactly what
 * the file holds.
 */
export class CastRecorder {
  private readonly hash = createHash('sha256');
  private readonly decoders = { o: new StringDecoder('utf8'), i: new StringDecoder('utf8') };
  private readonly started = performance.now();
  private pending: Promise<void> = Promise.resolve();
  private size = 0;
  private closed = false;

  private constructor(private readonly file: FileHandle) {}

  static async create(path: string, header: { width: number; height: number; title: string }): Promise<CastRecorder> {
    const file = await open(path, 'wx', 0o600);
    const recorder = new CastRecorder(file);
    recorder.line({
      version: 2,
      width: header.width,
      height: header.height,
      timestamp: Math.floor(Date.now() / 1000),
      title: header.title,
      env: { TERM: 'xterm-256color' },
    });
    return recorder;
  }

  get bytes(): number {
    return this.size;
  }

  output(data: Buffer): void {
    this.event('o', data);
  }

  input(data: Buffer): void {
    this.event('i', data);
  }

  /** Flushes what is queued and closes the file; the digest and size of the whole file. */
  async close(): Promise<{ bytes: number; sha256: string }> {
    if (!this.closed) {
      this.closed = true;
      for (const kind of ['o', 'i'] as const) {
        const rest = this.decoders[kind].end();
        if (rest) this.write(`${JSON.stringify([this.seconds(), kind, rest])}\n`);
      }
      await this.pending;
      await this.file.close();
    }
    return { bytes: this.size, sha256: this.hash.copy().digest('hex') };
  }

  private event(kind: 'o' | 'i', data: Buffer): void {
    if (this.closed) return;
    // A character split across two chunks is written whole, with the second.
    const text = this.decoders[kind].write(data);
    if (text) this.write(`${JSON.stringify([this.seconds(), kind, text])}\n`);
  }

  private line(value: unknown): void {
    this.write(`${JSON.stringify(value)}\n`);
  }

  private write(text: string): void {
    const bytes = Buffer.from(text);
    if (this.size + bytes.length > maxCastBytes) return;
    this.size += bytes.length;
    this.hash.update(bytes);
    // A failed write (a full disk) must not stop the terminal: the recording then ends short.
    this.pending = this.pending
      .then(() => this.file.write(bytes))
      .then(
        () => undefined,
        () => undefined,
      );
  }

  private seconds(): number {
    return Math.round(performance.now() - this.started) / 1000;
  }
}
