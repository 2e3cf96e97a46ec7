import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { LineBuffer } from '../stdio/line-buffer.js';

/** The stdin of an MCP server process, wherever it runs. */
export interface ProcessInput {
  /** Resolves once the process can take more. */
  write(data: string): Promise<void>;
}

/** What a server may send before the connection to it is cut. */
export interface ProcessTransportLimits {
  /** One message (a line). */
  maxMessageBytes: number;
  /** Lines in one second (2000). */
  maxMessagesPerSecond?: number;
  /** Bytes written to it and not yet taken (16 MiB): a server that stops reading while it keeps asking. */
  maxPendingBytes?: number;
}

/**
 * The client side of MCP's stdio transport over a process the caller runs
 * (in a sandbox, here): frames go out through `input`, and the caller hands
 * the process's stdout to `receive` and its end to `ended`. A line that is
 * not JSON-RPC is reported and skipped, as MCP's own stdio client does. The
 * server cannot make the daemon's memory or CPU grow without bound: a line
 * over the size limit, a flood of lines, or answers piling up unread end the
 * connection (`brokenBy` says which).
 */
export class ProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Why the transport closed itself, when the server broke the protocol. */
  brokenBy: string | undefined;
  private readonly buffer: LineBuffer;
  private readonly maxPerSecond: number;
  private readonly maxPending: number;
  private closed = false;
  private pendingBytes = 0;
  private windowStart = 0;
  private inWindow = 0;

  constructor(
    private readonly input: ProcessInput,
    private readonly limits: ProcessTransportLimits,
  ) {
    this.buffer = new LineBuffer(limits.maxMessageBytes);
    this.maxPerSecond = limits.maxMessagesPerSecond ?? 2000;
    this.maxPending = limits.maxPendingBytes ?? 16 * 1024 * 1024;
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('the server has ended');
    const frame = serializeMessage(message);
    this.pendingBytes += frame.length;
    if (this.pendingBytes > this.maxPending) {
      this.pendingBytes -= frame.length;
      this.breakBy(`the server left over ${this.maxPending / 1024 ** 2} MiB of messages to it unread`);
      return;
    }
    try {
      await this.input.write(frame);
    } finally {
      this.pendingBytes -= frame.length;
    }
  }

  /** Output the process wrote to stdout. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.buffer.append(chunk);
    } catch {
      this.breakBy(`the server wrote more than ${Math.round(this.limits.maxMessageBytes / 1024)} KiB without a line end`);
      return;
    }
    for (;;) {
      if (this.closed) return;
      let message: JSONRPCMessage | null;
      try {
        message = this.buffer.readMessage();
      } catch (err) {
        if (this.flooding()) {
          this.breakBy(`the server sent more than ${this.maxPerSecond} messages in a second`);
          return;
        }
        this.onerror?.(new Error(`the server wrote a line that is not a JSON-RPC message: ${(err as Error).message.slice(0, 200)}`));
        continue;
      }
      if (!message) return;
      if (this.flooding()) {
        this.breakBy(`the server sent more than ${this.maxPerSecond} messages in a second`);
        return;
      }
      this.onmessage?.(message);
    }
  }

  /** Counts a message against the second it arrived in. */
  private flooding(): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    this.inWindow += 1;
    return this.inWindow > this.maxPerSecond;
  }

  private breakBy(reason: string): void {
    this.brokenBy ??= reason;
    this.onerror?.(new Error(reason));
    void this.close();
  }

  /** The process ended (or its sandbox did). */
  ended(): void {
    void this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer.clear();
    this.onclose?.();
  }
}
