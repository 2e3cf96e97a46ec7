import { deserializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const newline = 0x0a;

/**
 * MCP's stdio framing (one JSON-RPC message a line), read in time linear in
 * the bytes. The SDK's ReadBuffer joins all it holds with every chunk and
 * searches it all again for a line end, so one 12 MiB message costs seconds
 * of CPU (and a server can make the daemon pay that at will). Here each chunk
 * is searched once and kept as it came; a line is joined once, when it ends.
 * Like ReadBuffer, it holds at most `maxBytes` (a longer line throws), and a
 * line that is not JSON-RPC throws from readMessage.
 */
export class LineBuffer {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private lines: string[] = [];
  private linesBytes: number[] = [];
  private next = 0;
  private heldBytes = 0;

  constructor(private readonly maxBytes: number) {}

  append(chunk: Buffer): void {
    if (this.heldBytes + chunk.length > this.maxBytes) {
      this.clear();
      throw new Error(`more than ${this.maxBytes} bytes held without a complete message`);
    }
    this.heldBytes += chunk.length;
    let start = 0;
    for (let end = chunk.indexOf(newline); end !== -1; end = chunk.indexOf(newline, start)) {
      this.partial.push(chunk.subarray(start, end));
      const bytes = this.partialBytes + (end - start) + 1;
      this.lines.push(Buffer.concat(this.partial).toString('utf8').replace(/\r$/, ''));
      this.linesBytes.push(bytes);
      this.partial = [];
      this.partialBytes = 0;
      start = end + 1;
    }
    if (start < chunk.length) {
      this.partial.push(chunk.subarray(start));
      this.partialBytes += chunk.length - start;
    }
  }

  /** The next complete message, or null until one has ended. */
  readMessage(): JSONRPCMessage | null {
    const line = this.readLine();
    return line === null ? null : deserializeMessage(line);
  }

  /** The next complete line, as text, or null until one has ended. */
  readLine(): string | null {
    if (this.next === this.lines.length) return null;
    const line = this.lines[this.next] as string;
    this.heldBytes -= this.linesBytes[this.next] as number;
    this.next += 1;
    // An index, not shift(): a flood of lines in one chunk would make shift quadratic.
    if (this.next === this.lines.length) {
      this.lines = [];
      this.linesBytes = [];
      this.next = 0;
    }
    return line;
  }

  clear(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.lines = [];
    this.linesBytes = [];
    this.next = 0;
    this.heldBytes = 0;
  }
}
