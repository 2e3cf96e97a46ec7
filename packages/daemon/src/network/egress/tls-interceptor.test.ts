import https from 'node:https';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listenLocal, readUntilClosed, recordingLog, sandboxNetwork, silentLogger } from '../../testing/egress-kit.js';
import type { SandboxNetwork } from '../network-service.js';
import { type CaMaterial, createSandboxCa, LeafCertificates } from '../sandbox-ca.js';
import { EgressRecords } from './egress-records.js';
import type { Opened } from './http-forward.js';
import { TlsInterceptor } from './tls-interceptor.js';

// The part alone: a server on 127.0.0.1 hands it each connection as the
// tunnel does once it has decided to open one; the requests it reads go to
// a forward that answers them itself.

const log = recordingLog();
const forwarded: Opened[] = [];
const interceptor = new TlsInterceptor({
  records: new EgressRecords(log),
  logger: silentLogger,
  forward: async (req, res, opened) => {
    forwarded.push(opened);
    res.end(`forwarded ${req.url}`);
  },
});
let ca: CaMaterial;
let network: SandboxNetwork;
let server: net.Server;
let port: number;

beforeAll(async () => {
  ca = await createSandboxCa('sb1');
  network = sandboxNetwork('sb1', ['up.test'], { leaves: new LeafCertificates(ca) });
  server = net.createServer((socket) => void interceptor.open(network, 'tls', { host: 'up.test', port: 443, address: '127.0.0.1' }, socket));
  port = await listenLocal(server);
});

afterAll(() => closeServer(server));

describe('TLS interceptor', () => {
  it('answers TLS for the host with a certificate of the sandbox’s CA, and hands on each request with where the connection goes', async () => {
    forwarded.length = 0;
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, servername: 'up.test', ca: ca.certPem, path: '/x', headers: { host: 'up.test' }, agent: false });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('forwarded /x');
    expect(forwarded).toEqual([{ sandbox: 'sb1', host: 'up.test', port: 443, address: '127.0.0.1' }]);
  });

  it('closes at once a connection that does not speak TLS', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.write('GET / HTTP/1.1\r\nHost: up.test\r\n\r\n');
    expect((await readUntilClosed(socket)).closed).toBe(true);
  });

  it('closes, with the refusal recorded, when no certificate can be made for the host', async () => {
    log.entries.length = 0;
    const broken = sandboxNetwork('sb1', ['up.test'], {
      leaves: { contextFor: () => Promise.reject(new Error('CA unreadable')) } as unknown as LeafCertificates,
    });
    const local = net.createServer((socket) => void interceptor.open(broken, 'connect', { host: 'up.test', port: 443, address: '127.0.0.1' }, socket));
    const localPort = await listenLocal(local);
    try {
      expect((await readUntilClosed(net.connect({ host: '127.0.0.1', port: localPort }))).closed).toBe(true);
      expect(log.entries).toEqual([
        expect.objectContaining({
          via: 'connect',
          host: 'up.test',
          port: 443,
          decision: 'deny',
          reason: 'the proxy could not make a certificate for the host',
        }),
      ]);
    } finally {
      await closeServer(local);
    }
  });
});
