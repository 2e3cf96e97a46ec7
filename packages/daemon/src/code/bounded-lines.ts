/**
 * Splits a byte stream into lines of at most `maxBytes`. What a sandbox
 * writes is hostile: a line longer than that is dropped whole (up to its
 * newline) and counted, so no line, however long, grows the daemon's memory
 * past the bound.
 */
export class BoundedLines {
  private chunks: Buffer[] = [];
  private size = 0;
  private discarding = false;
  /** Lines dropped for their length. */
  dropped = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
  ) {}

  push(data: Buffer): void {
    let from = 0;
    while (from < data.length) {
      const nl = data.indexOf(10, from);
      const end = nl === -1 ? data.length : nl;
      this.take(data.subarray(from, end));
      if (nl === -1) return;
      this.finishLine();
      from = nl + 1;
    }
  }

  private take(part: Buffer): void {
    if (this.discarding || part.length === 0) return;
    if (this.size + part.length > this.maxBytes) {
      this.discarding = true;
      this.chunks = [];
      this.size = 0;
      return;
    }
    this.chunks.push(Buffer.from(part));
    this.size += part.length;
  }

  private finishLine(): void {
    if (this.discarding) {
      this.discarding = false;
      this.dropped++;
      return;
    }
    const line = Buffer.concat(this.chunks, this.size).toString('utf8');
    this.chunks = [];
    this.size = 0;
    this.onLine(line);
  }
}
