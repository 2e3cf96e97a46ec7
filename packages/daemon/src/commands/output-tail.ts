/**
 * Keeps the last `limit` bytes of a stream. Output of a sandbox is untrusted
 * and endless output must not grow the daemon's memory (probe B5).
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  size = 0;
  truncated = false;
  /** Bytes of the stream no longer kept, here or (for an adopted command) by the agent before it. */
  dropped = 0;

  constructor(private readonly limit: number) {}

  append(data: Buffer): void {
    this.chunks.push(data);
    this.size += data.length;
    while (this.size > this.limit && this.chunks.length > 0) {
      const first = this.chunks[0] as Buffer;
      const excess = this.size - this.limit;
      this.truncated = true;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.dropped += excess;
      }
    }
  }

  /** Output that was never seen here comes before what follows. */
  skip(bytes: number): void {
    this.dropped += bytes;
    this.truncated = true;
  }

  bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}
