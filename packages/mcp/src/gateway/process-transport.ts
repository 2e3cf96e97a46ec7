import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** The stdin of an MCP server process, wherever it runs. */
export interface ProcessInput {
  /** Resolves once the process can take more. */
  write(data: string): Promise<void>;
}

/**
 * The client side of MCP's stdio transport over a process the caller runs
 * (in a sandbox, here): frames go out through `input`, and the caller hands
 * the process's stdout to `receive` and its end to `ended`. A line that is
 * not JSON-RPC is reported and skipped, as MCP's own stdio client does; one
 * longer than `maxMessageBytes` ends the connection, so a server cannot grow
 * the daemon's memory without bound.
 */
export class ProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Why the transport closed itself, when the server broke the protocol. */
  brokenBy: string | undefined;
  private readonly buffer: ReadBuffer;
  private closed = false;

  constructor(
    private readonly input: ProcessInput,
    private readonly maxMessageBytes: number,
  ) {
    this.buffer = new ReadBuffer({ maxBufferSize: maxMessageBytes });
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('the server has ended');
    await this.input.write(serializeMessage(message));
  }

  /** Output the process wrote to stdout. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.buffer.append(chunk);
    } catch {
      this.brokenBy = `the server wrote more than ${Math.round(this.maxMessageBytes / 1024)} KiB without a line end`;
      this.onerror?.(new Error(this.brokenBy));
      void this.close();
      return;
    }
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.buffer.readMessage();
      } catch (err) {
        this.onerror?.(new Error(`the server wrote a line that is not a JSON-RPC message: ${(err as Error).message.slice(0, 200)}`));
        continue;
      }
      if (!message) return;
      this.onmessage?.(message);
    }
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
