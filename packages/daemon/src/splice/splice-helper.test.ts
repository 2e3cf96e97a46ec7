import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import net, { type Socket } from 'node:net';
import { spliceHelperPath } from '@paddock/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../testing/egress-kit.js';
import { holdReads, SpliceHelper, takeBuffered } from './splice-helper.js';

// The helper on real loopback sockets: a "client" pair and an "upstream" pair,
// the middle ends handed to paddock-splice as the daemon hands them.

const helper = new SpliceHelper({ binary: spliceHelperPath(), logger: silentLogger });
let server: net.Server;
const accepted: Socket[] = [];
const waiting: Array<(s: Socket) => void> = [];

beforeAll(async () => {
  expect(spliceHelperPath(), 'paddock-splice is built by make build').toBeDefined();
  // Half-open allowed on the far ends: they stand for a client and a server that honour a half-close.
  server = net.createServer({ allowHalfOpen: true }, (s) => {
    const w = waiting.shift();
    if (w) w(s);
    else accepted.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(() => {
  helper.close();
  server.close();
});

/** A connected pair: [dialled end, accepted end]. */
async function pair(): Promise<[Socket, Socket]> {
  const port = (server.address() as net.AddressInfo).port;
  const far = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const near = await new Promise<Socket>((resolve) => {
    const s = accepted.shift();
    if (s) resolve(s);
    else waiting.push(resolve);
  });
  await new Promise((r) => (far.connecting ? far.once('connect', r) : r(null)));
  far.on('error', () => {});
  near.on('error', () => {});
  return [far, near];
}

function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function helperFds(): number {
  const pid = (helper as unknown as { child?: { pid?: number } }).child?.pid;
  return pid ? readdirSync(`/proc/${pid}/fd`).length : 0;
}

describe('paddock-splice', () => {
  it('joins two sockets both ways, every byte intact, and passes a half-close on', async () => {
    const [client, clientEnd] = await pair();
    const [upstreamEnd, server] = await pair();
    const up = randomBytes(8 * 1024 * 1024);
    const down = randomBytes(16 * 1024 * 1024);
    const joined = helper.tunnel(clientEnd, upstreamEnd, 0);
    const atServer = readAll(server);
    const atClient = readAll(client);
    client.end(up);
    // The server answers only once the client's half has ended: a half-close passed on.
    expect(sha(await atServer)).toBe(sha(up));
    server.end(down);
    expect(sha(await atClient)).toBe(sha(down));
    const outcome = await joined;
    // What Node had read before the hand-over it wrote itself (the socket counts it); the helper moved the rest.
    expect(outcome?.outcome).toBe('ok');
    expect((outcome?.aToB ?? 0) + upstreamEnd.bytesWritten).toBe(up.length);
    expect((outcome?.bToA ?? 0) + clientEnd.bytesWritten).toBe(down.length);
    clientEnd.destroy();
    upstreamEnd.destroy();
  });

  it('sends on what Node had already read before the hand-over', async () => {
    const [client, clientEnd] = await pair();
    const [upstreamEnd, server] = await pair();
    clientEnd.pause();
    client.write('early bytes ');
    await new Promise((r) => setTimeout(r, 50));
    const atServer = readAll(server);
    const joined = helper.tunnel(clientEnd, upstreamEnd, 0);
    client.end('late bytes');
    server.end();
    expect((await atServer).toString()).toBe('early bytes late bytes');
    // What Node had read it sent itself (the socket counts it); the helper counts the rest.
    expect((await joined)?.aToB).toBe('late bytes'.length);
    expect(upstreamEnd.bytesWritten).toBe('early bytes '.length);
    clientEnd.destroy();
    upstreamEnd.destroy();
  });

  it('moves exactly a body, then leaves both sockets to Node', async () => {
    const [client, clientEnd] = await pair();
    const [upstreamEnd, server] = await pair();
    holdReads(upstreamEnd);
    expect(takeBuffered(upstreamEnd).length).toBe(0);
    const body = randomBytes(4 * 1024 * 1024);
    server.write(Buffer.concat([body, Buffer.from('after the body')]));
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    const outcome = await helper.body(clientEnd, upstreamEnd, body.length);
    expect(outcome).toEqual({ aToB: 0, bToA: body.length, outcome: 'ok' });
    clientEnd.write('node writes again');
    await expect.poll(() => Buffer.concat(chunks).length).toBe(body.length + 'node writes again'.length);
    expect(sha(Buffer.concat(chunks))).toBe(sha(Buffer.concat([body, Buffer.from('node writes again')])));
    // The bytes after the body were left in the socket, unread.
    upstreamEnd.destroy();
    clientEnd.destroy();
    client.destroy();
    server.destroy();
  });

  it('a body whose upstream ends early is an eof, both sockets shut', async () => {
    const [client, clientEnd] = await pair();
    const [upstreamEnd, server] = await pair();
    holdReads(upstreamEnd);
    server.end(Buffer.alloc(1000, 1));
    const outcome = await helper.body(clientEnd, upstreamEnd, 5000);
    expect(outcome?.outcome).toBe('eof');
    expect(outcome?.bToA).toBe(1000);
    client.destroy();
    clientEnd.destroy();
    upstreamEnd.destroy();
  });

  it('a socket closed by the daemon ends the job at once, and the helper keeps no descriptor of it', async () => {
    const before = helperFds();
    const [client, clientEnd] = await pair();
    const [upstreamEnd, server] = await pair();
    const serverClosed = new Promise((r) => server.once('close', r));
    server.on('data', () => {});
    client.on('data', () => {});
    const joined = helper.tunnel(clientEnd, upstreamEnd, 0);
    client.write('x');
    await new Promise((r) => setTimeout(r, 50));
    expect(helper.active).toBe(1);
    upstreamEnd.destroy();
    expect((await joined)?.outcome).toBe('cancelled');
    server.destroy();
    await serverClosed;
    clientEnd.destroy();
    client.destroy();
    expect(helper.active).toBe(0);
    expect(helperFds()).toBe(before);
  });

  it('an idle tunnel is cut at its limit', async () => {
    const [client, clientEnd] = await pair();
    const [upstreamEnd, server] = await pair();
    // The helper shuts both sockets down: the client reads its end.
    const clientEnded = new Promise((r) => client.once('end', r));
    client.on('data', () => {});
    server.on('data', () => {});
    const outcome = await helper.tunnel(clientEnd, upstreamEnd, 500);
    expect(outcome?.outcome).toBe('idle');
    clientEnd.destroy();
    upstreamEnd.destroy();
    await clientEnded;
    client.destroy();
    server.destroy();
  });

  it('without a helper nothing is taken, and a socket whose reads were held reads again for Node', async () => {
    const none = new SpliceHelper({ binary: undefined, logger: silentLogger });
    const [client, clientEnd] = await pair();
    const [upstreamEnd, server] = await pair();
    const got: Buffer[] = [];
    upstreamEnd.on('data', (d: Buffer) => got.push(d));
    server.write('before ');
    await new Promise((r) => setTimeout(r, 50));
    holdReads(upstreamEnd);
    server.write('while held ');
    await new Promise((r) => setTimeout(r, 50));
    expect(await none.body(clientEnd, upstreamEnd, 100)).toBeUndefined();
    server.end('after');
    await new Promise((r) => upstreamEnd.once('end', r));
    expect(Buffer.concat(got).toString()).toBe('before while held after');
    expect(await none.tunnel(clientEnd, upstreamEnd, 0)).toBeUndefined();
    for (const s of [client, clientEnd, upstreamEnd, server]) s.destroy();
  });

  it('a socket already closed is not taken: the caller copies', async () => {
    const [client, clientEnd] = await pair();
    const [upstreamEnd, server] = await pair();
    clientEnd.destroy();
    expect(await helper.tunnel(clientEnd, upstreamEnd, 0)).toBeUndefined();
    for (const s of [client, upstreamEnd, server]) s.destroy();
  });
});
