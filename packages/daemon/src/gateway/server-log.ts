/**
 * The last lines a gateway server wrote to stderr, and what the gateway did
 * with it (started, ended, restarted), for `paddock gateway logs`. Bounded:
 * a server that writes without end keeps only its latest lines.
 */
export class ServerLog {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(
    private readonly maxLines = 500,
    private readonly maxLineChars = 2000,
  ) {}

  stderr(chunk: Buffer): void {
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial = (parts.pop() ?? '').slice(-this.maxLineChars);
    for (const line of parts) this.push(`stderr: ${line.replace(/\r$/, '')}`);
  }

  event(text: string): void {
    this.push(`gateway: ${text}`);
  }

  tail(count = this.maxLines): string[] {
    return this.lines.slice(-count);
  }

  private push(line: string): void {
    this.lines.push(`${new Date().toISOString()} ${line.slice(0, this.maxLineChars)}`);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }
}
