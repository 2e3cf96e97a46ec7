import http from 'node:http';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedPort,
  closeServer,
  listenLocal,
  networksOf,
  readUntilClosed,
  recordingLog,
  sandboxNetwork,
  silentLogger,
  TestPolicy,
  tableResolver,
} from '../../testing/egress-kit.js';
import { AddressGuard } from '../address-guard.js';
import type { Origin } from './arrival-header.js';
import { EgressDecider } from './egress-decider.js';
import { EgressRecords } from './egress-records.js';
import { Tunnel } from './tunnel.js';

// The part alone, against sockets on 127.0.0.1: a front server hands it
// CONNECT requests (as the proxy's parser does) or raw redirected
// connections; the upstream echoes what it gets and counts it.

const log = recordingLog();
const policy = new TestPolicy();
const network = sandboxNetwork('sb1', ['up.test', 'secret.test', '127.0.0.1']);
const intercepted: string[] = [];
let secretHostsFail = false;
let echo: net.Server;
let echoPort: number;
let echoed = 0;
let connectFront: http.Server;
let connectPort: number;
let redirectFront: net.Server;
let redirectPort: number;
let redirectDialled: Origin['dialled'];

const tunnel = new Tunnel({
  network: networksOf(network),
  decider: new EgressDecider({
    network: networksOf(network),
    resolver: tableResolver({ 'up.test': ['127.0.0.1'], 'secret.test': ['127.0.0.1'] }),
    guard: new AddressGuard(['127.0.0.0/8']),
    authorizer: policy,
    logger: silentLogger,
  }),
  records: new EgressRecords(log),
  injector: {
    bindsSecret: (_network, host) => {
      if (secretHostsFail) throw new Error('secret store unreadable');
      return host === 'secret.test';
    },
  },
  interceptor: {
    open: async (_network, via, target, socket) => {
      intercepted.push(`${via} ${target.host}:${target.port}`);
      socket.destroy();
    },
  },
  logger: silentLogger,
  openingTimeoutMs: 500,
});

beforeAll(async () => {
  echo = net.createServer((socket) => {
    socket.on('data', (d: Buffer) => {
      echoed += d.length;
    });
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  echoPort = await listenLocal(echo);
  connectFront = http.createServer();
  connectFront.on('connect', (req, socket, head) => void tunnel.connect(req, socket as Socket, head, { sandbox: 'sb1', arrival: 'proxy' }));
  connectPort = await listenLocal(connectFront);
  redirectFront = net.createServer((socket) => {
    socket.pause();
    void tunnel.redirectedTls({ sandbox: 'sb1', arrival: 'tls', dialled: redirectDialled }, socket);
  });
  redirectPort = await listenLocal(redirectFront);
});

afterAll(async () => {
  await closeServer(connectFront);
  await closeServer(redirectFront);
  await closeServer(echo);
});

function open(request: string, then?: string | Buffer): Promise<{ text: string; closed: boolean }> {
  const socket = net.connect({ host: '127.0.0.1', port: connectPort });
  socket.write(request);
  if (then !== undefined) socket.write(then);
  return readUntilClosed(socket);
}

describe('tunnel', () => {
  it('joins an allowed CONNECT to the checked address once its first bytes say it is not HTTP, and records the bytes both ways', async () => {
    log.entries.length = 0;
    const socket = net.connect({ host: '127.0.0.1', port: connectPort });
    socket.write(`CONNECT up.test:${echoPort} HTTP/1.1\r\nHost: up.test\r\n\r\n`);
    socket.write('SSH-2.0-test\r\n');
    const seen = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (text.includes('SSH-2.0-test\r\n')) resolve(text);
      });
    });
    socket.end();
    await readUntilClosed(socket);
    expect(seen).toBe('HTTP/1.1 200 Connection Established\r\n\r\nSSH-2.0-test\r\n');
    await expect
      .poll(() => log.entries)
      .toEqual([
        expect.objectContaining({ via: 'connect', host: 'up.test', port: echoPort, address: '127.0.0.1', decision: 'allow', bytesOut: 14, bytesIn: 14 }),
      ]);
  });

  it('refuses a host not allowed with 403 and a recorded reason, and a CONNECT naming no port with 400', async () => {
    log.entries.length = 0;
    const refused = await open('CONNECT other.test:443 HTTP/1.1\r\n\r\n');
    expect(refused.closed).toBe(true);
    expect(refused.text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*X-Paddock-Refused: 1\r\n[\s\S]*\r\n\r\npaddock egress: /);
    expect(log.entries).toEqual([expect.objectContaining({ via: 'connect', host: 'other.test', port: 443, decision: 'deny' })]);
    expect(await open('CONNECT up.test HTTP/1.1\r\n\r\n')).toEqual({
      closed: true,
      text: 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    });
  });

  it('closes a tunnel carrying plain HTTP or TLS naming another server, or saying nothing in time, each refusal recorded; nothing reaches the upstream', async () => {
    log.entries.length = 0;
    echoed = 0;
    const connect = `CONNECT up.test:${echoPort} HTTP/1.1\r\n\r\n`;
    expect((await open(connect, 'GET / HTTP/1.1\r\nHost: other.test\r\n\r\n')).closed).toBe(true);
    expect((await open(connect, await clientHello('other.test'))).closed).toBe(true);
    expect((await open(connect)).closed).toBe(true);
    expect(log.entries.map((e) => e.reason)).toEqual([
      'plain HTTP inside a CONNECT tunnel: send it to the proxy as a request',
      'TLS names other.test, the tunnel was opened to up.test',
      'the tunnel did not say what it carries within 0.5 s (a complete TLS hello or first line)',
    ]);
    expect(echoed).toBe(0);
  });

  it('answers 502 naming the cause when the upstream refuses the connection, instead of establishing a tunnel that closes', async () => {
    const port = await closedPort();
    const answer = await open(`CONNECT up.test:${port} HTTP/1.1\r\n\r\n`, 'SSH-2.0-test\r\n');
    expect(answer.closed).toBe(true);
    expect(answer.text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(answer.text).toContain(`paddock egress: the upstream up.test:${port} could not be reached (ECONNREFUSED)`);
  });

  it('hands a host a secret is bound to to the TLS interceptor', async () => {
    intercepted.length = 0;
    await open('CONNECT secret.test:443 HTTP/1.1\r\n\r\n');
    expect(intercepted).toEqual(['connect secret.test:443']);
  });

  it('answers a CONNECT when the policy fails to decide, rather than leaving the client to its idle timeout', async () => {
    policy.generation = undefined;
    policy.decide = () => {
      throw new Error('policy store unreadable');
    };
    try {
      const answer = await open(`CONNECT up.test:${echoPort} HTTP/1.1\r\n\r\n`);
      expect(answer.closed).toBe(true);
      expect(answer.text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*paddock egress: policy: the policy could not be evaluated\n$/);
    } finally {
      policy.decide = () => ({ effect: 'allow' });
    }
  });

  it('answers a CONNECT with 502, the refusal recorded, when the proxy fails on it after deciding (a secret’s hosts cannot be read)', async () => {
    log.entries.length = 0;
    secretHostsFail = true;
    try {
      const answer = await open(`CONNECT up.test:${echoPort} HTTP/1.1\r\n\r\n`);
      expect(answer.closed).toBe(true);
      expect(answer.text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*paddock egress: the proxy failed on this tunnel\n$/);
    } finally {
      secretHostsFail = false;
    }
    expect(log.entries).toEqual([expect.objectContaining({ via: 'connect', decision: 'deny', reason: 'the proxy failed on this tunnel' })]);
  });

  it('redirected TLS: passes a hello naming an allowed host to the address dialled; closes, with the refusal recorded, what is not TLS, names no allowed host, or when the policy fails', async () => {
    redirectDialled = { address: '127.0.0.1', port: echoPort };
    echoed = 0;
    log.entries.length = 0;
    const passed = net.connect({ host: '127.0.0.1', port: redirectPort });
    passed.write(await clientHello('up.test'));
    await expect.poll(() => echoed).toBeGreaterThan(0);
    passed.destroy();

    const send = (bytes: string | Buffer) => {
      const socket = net.connect({ host: '127.0.0.1', port: redirectPort });
      socket.write(bytes);
      return readUntilClosed(socket);
    };
    expect((await send('GET / HTTP/1.1\r\n\r\n')).closed).toBe(true);
    expect((await send(await clientHello('other.test'))).closed).toBe(true);
    policy.generation = undefined;
    policy.decide = () => {
      throw new Error('policy store unreadable');
    };
    try {
      expect((await send(await clientHello('up.test'))).closed).toBe(true);
    } finally {
      policy.decide = () => ({ effect: 'allow' });
    }
    await expect
      .poll(() => log.entries.filter((e) => e.decision === 'deny').map((e) => [e.via, e.reason]))
      .toEqual([
        ['tls', 'not TLS'],
        ['tls', `other.test:${echoPort} is not in the sandbox's allowlist`],
        ['tls', 'policy: the policy could not be evaluated'],
      ]);
  });
});

/** A real ClientHello naming `servername`, as a TLS client writes it. */
async function clientHello(servername: string): Promise<Buffer> {
  const catcher = net.createServer();
  const port = await listenLocal(catcher);
  const hello = new Promise<Buffer>((resolve) =>
    catcher.once('connection', (s) =>
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
      }),
    ),
  );
  const client = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  client.on('error', () => undefined);
  const bytes = await hello;
  client.destroy();
  await closeServer(catcher);
  return bytes;
}
