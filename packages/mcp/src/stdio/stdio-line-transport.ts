import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { LineBuffer } from './line-buffer.js';

/**
 * The server side of MCP's stdio transport, as the SDK's StdioServerTransport
 * behaves (a bad line is reported and skipped; past the size limit the
 * transport closes), over a LineBuffer: a large message (write_file of a big
 * file) costs its size, not its size squared.
 */
export class StdioLineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /**
   * Sees each message as parsed JSON before the SDK's schema check; true
   * means it has answered the message itself, which then goes no further.
   */
  intercept?: (message: unknown) => boolean;
  private readonly buffer: LineBuffer;
  private started = false;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
    maxMessageBytes: number,
  ) {
    this.buffer = new LineBuffer(maxMessageBytes);
  }

  private readonly onData = (chunk: Buffer) => {
    try {
      this.buffer.append(chunk);
    } catch (err) {
      this.onerror?.(err as Error);
      void this.close();
      return;
    }
    for (;;) {
      try {
        const line = this.buffer.readLine();
        if (line === null) return;
        const message: unknown = JSON.parse(line);
        if (this.intercept?.(message)) continue;
        this.onmessage?.(JSONRPCMessageSchema.parse(message));
      } catch (err) {
        this.onerror?.(err as Error);
      }
    }
  };

  private readonly onStreamError = (err: Error) => this.onerror?.(err);

  async start(): Promise<void> {
    if (this.started) throw new Error('the stdio transport is already started');
    this.started = true;
    this.input.on('data', this.onData);
    this.input.on('error', this.onStreamError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.output.write(serializeMessage(message))) resolve();
      else this.output.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    this.input.off('data', this.onData);
    this.input.off('error', this.onStreamError);
    if (this.input.listenerCount('data') === 0) this.input.pause();
    this.buffer.clear();
    this.onclose?.();
  }
}
