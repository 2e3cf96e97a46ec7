import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { spliceHelperPath } from '@paddock/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpliceHelper } from '../../splice/splice-helper.js';
import { closeServer, listenLocal, networksOf, recordingLog, sandboxNetwork, silentLogger, TestPolicy, tableResolver } from '../../testing/egress-kit.js';
import { AddressGuard } from '../address-guard.js';
import { EgressDecider } from './egress-decider.js';
import { EgressRecords } from './egress-records.js';
import { Tunnel } from './tunnel.js';

// A pass-through tunnel handed to paddock-splice once decided, against
// sockets on 127.0.0.1: the upstream reads everything, then answers with the
// digest of what it got and a body of its own, then closes.

const log = recordingLog();
const network = sandboxNetwork('sb1', ['up.test']);
const splice = new SpliceHelper({ binary: spliceHelperPath(), logger: silentLogger });
const answerBytes = randomBytes(12 * 1024 * 1024);
let upstream: net.Server;
let upstreamPort: number;
let front: http.Server;
let frontPort: number;

const tunnel = new Tunnel({
  network: networksOf(network),
  decider: new EgressDecider({
    network: networksOf(network),
    resolver: tableResolver({ 'up.test': ['127.0.0.1'] }),
    guard: new AddressGuard(['127.0.0.0/8']),
    authorizer: new TestPolicy(),
    logger: silentLogger,
  }),
  records: new EgressRecords(log),
  injector: { bindsSecret: () => false },
  interceptor: { open: async (_n, _v, _t, socket) => void socket.destroy() },
  splice,
  logger: silentLogger,
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  expect(spliceHelperPath(), 'paddock-splice is built by make build').toBeDefined();
  upstream = net.createServer({ allowHalfOpen: true }, (socket) => {
    const h = createHash('sha256');
    socket.on('data', (d: Buffer) => h.update(d));
    socket.on('error', () => {});
    // Answers only once the client's half has ended: the tunnel passed the half-close on.
    socket.on('end', () => {
      socket.write(`${h.digest('hex')}\n`);
      socket.end(answerBytes);
    });
  });
  upstreamPort = await listenLocal(upstream);
  front = http.createServer();
  front.on('connect', (req, socket, head) => void tunnel.connect(req, socket as Socket, head, { sandbox: 'sb1', arrival: 'proxy' }));
  frontPort = await listenLocal(front);
});

afterAll(async () => {
  splice.close();
  await closeServer(front);
  await closeServer(upstream);
});

describe('a pass-through tunnel moved by paddock-splice', () => {
  it('carries every byte both ways, passes a half-close on, and records what went through', async () => {
    log.entries.length = 0;
    const sent = Buffer.concat([Buffer.from('SSH-2.0-test\r\n'), randomBytes(6 * 1024 * 1024)]);
    const socket = net.connect({ host: '127.0.0.1', port: frontPort, allowHalfOpen: true });
    socket.write(`CONNECT up.test:${upstreamPort} HTTP/1.1\r\nHost: up.test\r\n\r\n`);
    socket.end(sent);
    const got = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
    });
    socket.destroy();
    const established = 'HTTP/1.1 200 Connection Established\r\n\r\n';
    const digestLine = `${sha(sent)}\n`;
    expect(got.subarray(0, established.length).toString()).toBe(established);
    expect(got.subarray(established.length, established.length + digestLine.length).toString()).toBe(digestLine);
    expect(sha(got.subarray(established.length + digestLine.length))).toBe(sha(answerBytes));
    await expect
      .poll(() => log.entries)
      .toEqual([
        expect.objectContaining({
          via: 'connect',
          host: 'up.test',
          decision: 'allow',
          bytesOut: sent.length,
          bytesIn: digestLine.length + answerBytes.length,
        }),
      ]);
    expect(splice.active).toBe(0);
  });

  it('a client that leaves mid-stream ends the tunnel and its upstream, recorded, nothing held', async () => {
    log.entries.length = 0;
    const upstreamClosed = new Promise<void>((resolve) => upstream.once('connection', (s: Socket) => s.once('close', () => resolve())));
    const socket = net.connect({ host: '127.0.0.1', port: frontPort });
    socket.write(`CONNECT up.test:${upstreamPort} HTTP/1.1\r\nHost: up.test\r\n\r\n`);
    socket.write('SSH-2.0-test\r\n');
    socket.write(randomBytes(1024 * 1024));
    await new Promise((r) => setTimeout(r, 200));
    expect(splice.active).toBe(1);
    socket.destroy();
    await upstreamClosed;
    await expect.poll(() => log.entries.length).toBe(1);
    expect(log.entries[0]).toEqual(expect.objectContaining({ decision: 'allow', bytesOut: 14 + 1024 * 1024 }));
    expect(splice.active).toBe(0);
  });
});
