import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeServer,
  listenLocal,
  networksOf,
  readUntilClosed,
  recordingLog,
  sandboxNetwork,
  silentLogger,
  TestPolicy,
  tableResolver,
} from '../testing/egress-kit.js';
import { AddressGuard } from './address-guard.js';
import { DnsResponder } from './dns-responder.js';
import { EgressProxy } from './egress-proxy.js';
import type { EgressResolver } from './egress-resolver.js';

// The dispatcher on a real unix socket, with no sandbox: what the relay
// would send (its header line, then the connection) is written by the test.

const log = recordingLog();
const network = sandboxNetwork('sb1', ['up.test']);
const resolver = tableResolver({ 'up.test': ['127.0.0.1'] });
const guard = new AddressGuard(['127.0.0.0/8']);
const proxy = new EgressProxy({
  network: networksOf(network),
  resolver,
  guard,
  dns: new DnsResponder(resolver as unknown as EgressResolver, guard),
  authorizer: new TestPolicy(),
  connections: log,
  secrets: { hostsOf: () => undefined, reveal: () => undefined },
  logger: silentLogger,
});
let dir: string;
let socketPath: string;
let upstream: http.Server;
let upstreamPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paddock-egress-proxy-'));
  socketPath = join(dir, 'egress.sock');
  await proxy.listen('sb1', socketPath, dir);
  upstream = http.createServer((req, res) => res.end(`upstream saw ${req.headers.host}${req.url}`));
  upstreamPort = await listenLocal(upstream);
});

afterAll(async () => {
  await proxy.closeAll();
  await closeServer(upstream);
  await rm(dir, { recursive: true, force: true });
});

function relay(bytes: string | Buffer, options: { end?: boolean } = {}): Promise<{ text: string; closed: boolean }> {
  const socket = net.connect(socketPath);
  if (options.end) socket.end(bytes);
  else socket.write(bytes);
  return readUntilClosed(socket);
}

describe('egress proxy (dispatcher)', () => {
  it('hands a proxy request to HTTP forwarding', async () => {
    const { text } = await relay(
      `PADDOCK/1 proxy -\r\nGET http://up.test:${upstreamPort}/a HTTP/1.1\r\nHost: up.test:${upstreamPort}\r\nConnection: close\r\n\r\n`,
    );
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[\\s\\S]*upstream saw up\\.test:${upstreamPort}/a$`));
  });

  it('hands a DNS question to DNS answering', async () => {
    const question = dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'A', name: 'up.test', class: 'IN' }] });
    const { text } = await relay(Buffer.concat([Buffer.from('PADDOCK/1 dns -\n'), Buffer.from([0, question.length]), question]), { end: true });
    const reply = dnsPacket.decode(Buffer.from(text, 'latin1').subarray(2));
    expect(reply).toMatchObject({ id: 9, rcode: 'NOERROR', answers: [expect.objectContaining({ data: '127.0.0.1' })] });
  });

  it('closes at once a connection whose header is not the relay’s, or whose HTTP cannot be parsed', async () => {
    expect(await relay('HELLO proxy -\n')).toEqual({ text: '', closed: true });
    expect(await relay('PADDOCK/1 smtp -\n')).toEqual({ text: '', closed: true });
    expect(await relay(`PADDOCK/1 proxy ${'x'.repeat(300)}`)).toEqual({ text: '', closed: true });
    expect((await relay('PADDOCK/1 proxy -\n\u0000\u0001 not http\r\n\r\n')).closed).toBe(true);
  });

  it('cuts the sandbox’s open connections when it is closed', async () => {
    const question = dnsPacket.encode({ type: 'query', id: 10, questions: [{ type: 'A', name: 'up.test', class: 'IN' }] });
    const socket = net.connect(socketPath);
    socket.write(Buffer.concat([Buffer.from('PADDOCK/1 dns-tcp -\n'), Buffer.from([0, question.length]), question]));
    // Once answered, the connection is surely dispatched and held open for more questions.
    await new Promise((resolve) => socket.once('data', resolve));
    const read = readUntilClosed(socket);
    await proxy.close('sb1');
    expect((await read).closed).toBe(true);
    await proxy.listen('sb1', socketPath, dir);
  });
});
