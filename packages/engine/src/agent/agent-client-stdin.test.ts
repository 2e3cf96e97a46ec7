import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient } from './agent-client.js';
import { encodeFrame, Frame, maxFramePayload } from './agent-protocol.js';

// A command's stdin as the agent receives it, from a stand-in agent that
// starts every exec at once and keeps the data frames it is sent.
let dir: string;
let socketPath: string;
let server: Server;
/** The stdin bytes of the stand-in's last exec, in the order they arrived. */
let received: Buffer[];
/** How many stdin bytes had arrived when its end did. */
let bytesBeforeEof: number | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'paddock-agent-stdin-'));
  socketPath = join(dir, 'agent.sock');
  received = [];
  bytesBeforeEof = undefined;
  server = createServer((conn) => {
    conn.on('error', () => {});
    let pending = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        const type = String.fromCharCode(pending[0] ?? 0);
        const payload = pending.subarray(5, 5 + pending.readUInt32BE(1));
        pending = pending.subarray(5 + payload.length);
        if (type === Frame.request) conn.write(encodeFrame(Frame.started, '42'));
        else if (type === Frame.dataIn) received.push(Buffer.from(payload));
        else if (type === Frame.eofIn) {
          bytesBeforeEof = Buffer.concat(received).length;
          conn.end(encodeFrame(Frame.exit, '0 0'));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function startCat(client: AgentClient) {
  return client.exec({ cmd: ['cat'], env: [], cwd: '/' }, {}, { timeoutMs: 10_000 });
}

describe("a command's stdin", () => {
  it('keeps writes made at once whole and in order, each larger than a frame', async () => {
    const client = new AgentClient(socketPath, 'sb-stdin');
    try {
      const session = await startCat(client);
      const sizes = [3 * maxFramePayload + 7, 2 * maxFramePayload + 1, 5];
      const writes = sizes.map((size, i) => Buffer.alloc(size, 'abc'[i]));
      await Promise.all(writes.map((w) => session.write(w)));
      session.closeStdin();
      await session.exited;
      expect(Buffer.concat(received).equals(Buffer.concat(writes))).toBe(true);
    } finally {
      client.close();
    }
  });

  it('ends after every write made before the end, awaited or not', async () => {
    const client = new AgentClient(socketPath, 'sb-stdin');
    try {
      const session = await startCat(client);
      void session.write(Buffer.alloc(3 * maxFramePayload, 'x'));
      void session.write('and a line\n');
      session.closeStdin();
      await session.exited;
      expect(bytesBeforeEof).toBe(3 * maxFramePayload + 'and a line\n'.length);
    } finally {
      client.close();
    }
  });

  it('waits for the socket many times without piling up listeners on it', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const client = new AgentClient(socketPath, 'sb-stdin');
    try {
      const session = await startCat(client);
      // Each write is two frames, the first larger than the socket takes at once: each waits for a drain.
      for (let i = 0; i < 40; i++) await session.write(Buffer.alloc(maxFramePayload + 1, i));
      session.closeStdin();
      await session.exited;
      await new Promise((r) => setImmediate(r));
      expect(Buffer.concat(received).length).toBe(40 * (maxFramePayload + 1));
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      client.close();
    }
  });
});
