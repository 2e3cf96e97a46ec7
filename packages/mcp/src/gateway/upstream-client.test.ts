import { describe, expect, it } from 'vitest';
import { ProcessTransport } from './process-transport.js';
import { UpstreamClient } from './upstream-client.js';

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
}

/**
 * A server on the other end of a ProcessTransport that answers initialize
 * and tools/list, never answers tools/call, and keeps every message it got.
 */
function fakeServer(): { transport: ProcessTransport; received: Message[] } {
  const received: Message[] = [];
  const answer = (message: Record<string, unknown>) =>
    queueMicrotask(() => transport.receive(Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`)));
  const transport = new ProcessTransport(
    {
      write: async (frame) => {
        const message = JSON.parse(frame) as Message;
        received.push(message);
        if (message.method === 'initialize') {
          answer({
            id: message.id,
            result: { protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'fake', version: '1' } },
          });
        } else if (message.method === 'tools/list') {
          answer({ id: message.id, result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] } });
        }
      },
    },
    { maxMessageBytes: 1024 * 1024 },
  );
  return { transport, received };
}

const connectOptions = { clientInfo: { name: 'test', version: '1' }, timeoutMs: 10_000, maxToolNameChars: 64, onToolsChanged: () => {} };
const cancellations = (received: Message[]) => received.filter((m) => m.method === 'notifications/cancelled');

describe('UpstreamClient and the signals it is given', () => {
  it('sends no cancellation for answered requests when their signal aborts later', async () => {
    const { transport, received } = fakeServer();
    const starting = new AbortController();
    // As the gateway starts a server: the run's signal or the start timeout, whichever comes first.
    const signal = AbortSignal.any([starting.signal]);
    const client = await UpstreamClient.connect(transport, { ...connectOptions, signal });
    const { tools } = await client.listTools({ timeoutMs: 10_000, signal });
    expect(tools.map((t) => t.name)).toEqual(['echo']);
    starting.abort(new Error('the server was stopped'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(received.map((m) => m.method)).toEqual(['initialize', 'notifications/initialized', 'tools/list']);
    expect(cancellations(received)).toEqual([]);
  });

  it('still cancels a call its signal aborts while it waits', async () => {
    const { transport, received } = fakeServer();
    const client = await UpstreamClient.connect(transport, connectOptions);
    const caller = new AbortController();
    const call = client.callTool('echo', {}, { timeoutMs: 10_000, signal: caller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    caller.abort(new Error('the client went away'));
    await expect(call).rejects.toThrow('the client went away');
    const sent = received.find((m) => m.method === 'tools/call');
    expect(cancellations(received)).toEqual([expect.objectContaining({ params: expect.objectContaining({ requestId: sent?.id }) })]);
  });
});
