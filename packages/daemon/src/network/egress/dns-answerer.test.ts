import net from 'node:net';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listenLocal, networksOf, readUntilClosed, recordingLog, resolverError, sandboxNetwork, tableResolver } from '../../testing/egress-kit.js';
import { AddressGuard } from '../address-guard.js';
import { DnsResponder } from '../dns-responder.js';
import type { EgressResolver } from '../egress-resolver.js';
import { DnsAnswerer } from './dns-answerer.js';
import { EgressRecords } from './egress-records.js';

// The part alone: a server on 127.0.0.1 hands each connection to it as the
// proxy does for the relay's `dns` and `dns-tcp` arrivals.

const log = recordingLog();
const network = sandboxNetwork('sb1', ['up.test', 'down.test']);
const resolver = tableResolver({ 'up.test': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'], 'down.test': resolverError('ETIMEOUT') });
const answerer = new DnsAnswerer({
  network: networksOf(network),
  dns: new DnsResponder(resolver as unknown as EgressResolver, new AddressGuard()),
  records: new EgressRecords(log),
});
let server: net.Server;
let port: number;

beforeAll(async () => {
  server = net.createServer((socket) => {
    socket.pause();
    answerer.serve({ sandbox: 'sb1', arrival: 'dns-tcp' }, socket);
  });
  port = await listenLocal(server);
});

afterAll(() => closeServer(server));

function framed(...messages: Buffer[]): Buffer {
  return Buffer.concat(messages.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])));
}

function question(id: number, name: string, type: 'A' | 'AAAA' = 'A'): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });
}

function answers(bytes: string): dnsPacket.DecodedPacket[] {
  const data = Buffer.from(bytes, 'latin1');
  const out: dnsPacket.DecodedPacket[] = [];
  for (let at = 0; at + 2 <= data.length; at += 2 + data.readUInt16BE(at)) out.push(dnsPacket.decode(data.subarray(at + 2, at + 2 + data.readUInt16BE(at))));
  return out;
}

/** Sends the bytes, half-closes as the relay does for a UDP question, and reads until the proxy closes. */
async function ask(bytes: Buffer): Promise<{ replies: dnsPacket.DecodedPacket[]; closed: boolean }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.end(bytes);
  const { text, closed } = await readUntilClosed(socket);
  return { replies: answers(text), closed };
}

describe('dns answerer', () => {
  it('answers each question in order: an allowed name with its IPv4 addresses, another name NXDOMAIN (recorded), a failing resolver SERVFAIL', async () => {
    log.entries.length = 0;
    const { replies, closed } = await ask(framed(question(1, 'up.test'), question(2, 'evil.test'), question(3, 'down.test'), question(4, 'up.test', 'AAAA')));
    expect(closed).toBe(true);
    expect(replies.map((r) => [r.id, (r as { rcode?: string }).rcode, r.answers?.map((a) => (a as { data?: unknown }).data)])).toEqual([
      [1, 'NOERROR', ['93.184.216.34']],
      [2, 'NXDOMAIN', []],
      [3, 'SERVFAIL', []],
      [4, 'NOERROR', []],
    ]);
    expect(log.entries).toEqual([
      expect.objectContaining({
        sandbox: 'sb1',
        via: 'dns',
        host: 'evil.test',
        port: null,
        decision: 'deny',
        reason: "evil.test is not in the sandbox's allowlist",
      }),
    ]);
  });

  it('a question too malformed to answer ends a connection still open, after the answers before it, rather than leaving it waiting', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.write(framed(question(7, 'up.test'), Buffer.from([1])));
    const { text, closed } = await readUntilClosed(socket);
    expect(closed).toBe(true);
    expect(answers(text).map((r) => r.id)).toEqual([7]);
  });
});
