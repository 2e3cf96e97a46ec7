import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient } from './agent-client.js';
import { encodeFrame, Frame } from './agent-protocol.js';

// The connection the client opens ahead of a sandbox's next call, against a
// stand-in agent that answers every request with a successful exit.
let dir: string;
let socketPath: string;
let server: Server;
let accepted: number;
let requests: number;
let connections: Socket[];
/** What the stand-in agent does with each connection as it accepts it (the n-th, from 1). */
let onAccept: (conn: Socket, n: number) => void;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'paddock-agent-spare-'));
  socketPath = join(dir, 'agent.sock');
  accepted = 0;
  requests = 0;
  connections = [];
  onAccept = () => {};
  server = createServer((conn) => {
    accepted++;
    connections.push(conn);
    onAccept(conn, accepted);
    conn.on('error', () => {});
    let pending = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 5 || pending.length < 5 + pending.readUInt32BE(1)) return;
      requests++;
      conn.end(encodeFrame(Frame.exit, '0 0'));
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** This process's descriptors that lead to the agent's socket. */
function descriptorsOnSocket(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target === socketPath ? [target] : [];
    } catch {
      return [];
    }
  });
}

/** Waits `n` turns of the event loop, on its timers (odd n) or its checks (even n): closes land in every phase. */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => (n % 2 ? setTimeout(r, 0) : setImmediate(r)));
};

describe('the connection opened ahead of the next call', () => {
  it('is opened once a call has ended, not after a ping, and the next call goes over it', async () => {
    const client = new AgentClient(socketPath, 'sb-spare');
    try {
      await client.ping();
      await new Promise((r) => setTimeout(r, 50));
      expect(accepted).toBe(1);
      await client.remove('/tmp/a', false);
      await expect.poll(() => accepted).toBe(3);
      await client.remove('/tmp/b', false);
      // Served over the connection already open: none was accepted for it.
      expect(accepted).toBe(3);
      expect(requests).toBe(3);
      await expect.poll(() => accepted).toBe(4);
    } finally {
      client.close();
    }
  });

  it('is not opened again once the client is closed, and leaves no descriptor open, however the close falls while it is being made', async () => {
    for (let i = 0; i < 120; i++) {
      const client = new AgentClient(socketPath, 'sb-spare');
      await client.remove('/tmp/a', false);
      await turns(i % 8);
      client.close();
    }
    const before = accepted;
    await new Promise((r) => setTimeout(r, 100));
    expect(accepted).toBe(before);
    expect(descriptorsOnSocket()).toEqual([]);
    await expect.poll(() => new Promise((r) => server.getConnections((_err, n) => r(n)))).toBe(0);
  });

  it('is not used when the agent said something unasked on it (it could not fork a handler, say): the call connects afresh', async () => {
    // The second connection is the one opened ahead: the stand-in answers it unasked and hangs up, as the agent does
    // when no handler can be forked for a connection that sent no request.
    onAccept = (conn, n) => {
      if (n === 2) conn.end(encodeFrame(Frame.fail, 'EAGAIN fork (the sandbox is at its process limit?): Resource temporarily unavailable'));
    };
    const client = new AgentClient(socketPath, 'sb-spare');
    try {
      await client.remove('/tmp/a', false);
      await expect.poll(() => accepted).toBe(2);
      await new Promise((r) => setTimeout(r, 50));
      await client.remove('/tmp/b', false);
      expect(accepted).toBe(3);
    } finally {
      client.close();
    }
  });

  it('whose handler died before the daemon heard of it makes the call connect afresh, not fail', async () => {
    const client = new AgentClient(socketPath, 'sb-spare');
    try {
      await client.remove('/tmp/a', false);
      await expect.poll(() => accepted).toBe(2);
      await new Promise((r) => setTimeout(r, 50));
      // Closed on the agent's side (its descriptor at once), the call made in the same turn: the client has not read the close yet.
      (connections[1] as Socket).destroy();
      await client.remove('/tmp/b', false);
      expect(accepted).toBe(3);
      expect(requests).toBe(2);
    } finally {
      client.close();
    }
  });
});
