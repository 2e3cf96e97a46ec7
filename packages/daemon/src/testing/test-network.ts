import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';

/**
 * What the egress tests talk to, all on this host's loopback: a DNS server
 * that knows only the test names, and HTTP and HTTPS servers that echo what
 * reached them. Nothing here ever touches another address.
 */
export interface TestNetwork {
  /** host:port of the test DNS server, for paddockd --dns-server. */
  dnsServer: string;
  /** PEM of the CA that signed the HTTPS servers' certificates, for the daemon's NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** Adds (or replaces) a name → IPv4 address. */
  setName(name: string, address: string): void;
  /** Starts an echo server on address:port (HTTP, or HTTPS with a certificate for the names). */
  serve(options: { address: string; port: number; tls?: boolean; names?: string[] }): Promise<EchoServer>;
  close(): Promise<void>;
}

export interface EchoServer {
  port: number;
  /** Requests that arrived, in order. */
  seen: Array<{ method: string; url: string; host: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

/**
 * Test upstreams live on addresses of the benchmarking block (refused by the
 * proxy unless opened with --egress-allow-range) added to the host's
 * loopback for the test's life: unlike 127.x, a sandbox cannot mistake them
 * for its own loopback, so they are reached the way a real server would be.
 */
export const testUpstreamRange = '198.18.99.0/24';

/** Adds addresses to the host's loopback until close(). */
function addLoopbackAddresses(addresses: string[]): () => void {
  const added = addresses.filter((address) => {
    try {
      execFileSync('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo'], { stdio: 'pipe' });
      return true;
    } catch {
      return false; // already there (another test file): leave it to its owner
    }
  });
  return () => {
    for (const address of added) {
      try {
        execFileSync('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo'], { stdio: 'pipe' });
      } catch {}
    }
  };
}

/** @param addresses upstream addresses (in testUpstreamRange) this test serves on */
export async function startTestNetwork(addresses: string[] = []): Promise<TestNetwork> {
  const removeAddresses = addLoopbackAddresses(addresses);
  const names = new Map<string, string>();
  const udp = createSocket('udp4');
  udp.on('message', (message, peer) => answer(udp, names, message, peer.address, peer.port));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  const dir = mkdtempSync('/tmp/paddock-test-net-');
  const pki = makeTestPki(dir);
  const servers: EchoServer[] = [];
  return {
    dnsServer: `127.0.0.1:${(udp.address() as AddressInfo).port}`,
    caFile: pki.caFile,
    setName: (name, address) => names.set(name.toLowerCase(), address),
    async serve({ address, port, tls, names: certNames = [] }) {
      const seen: EchoServer['seen'] = [];
      const handler = (req: IncomingMessage, res: http.ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on('data', (d: Buffer) => chunks.push(d));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', headers: req.headers, body });
          if (req.url?.startsWith('/bytes/')) {
            const size = Number(req.url.slice(7));
            res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
            return void res.end(Buffer.alloc(size, 97));
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, headers: req.headers, body }));
        });
      };
      const server: Server = tls ? https.createServer(pki.serverOptions(certNames), handler) : http.createServer(handler);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, address, () => resolve());
      });
      const echo: EchoServer = {
        port: (server.address() as AddressInfo).port,
        seen,
        close: () => new Promise<void>((resolve) => server.close(() => resolve()) && server.closeAllConnections()),
      };
      servers.push(echo);
      return echo;
    },
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      udp.close();
      removeAddresses();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function answer(udp: UdpSocket, names: Map<string, string>, message: Buffer, address: string, port: number): void {
  let query: dnsPacket.DecodedPacket;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return;
  }
  const question = query.questions?.[0];
  const known = question && names.get(question.name.toLowerCase());
  const answers = known && question.type === 'A' ? [{ type: 'A' as const, name: question.name, ttl: 60, data: known }] : [];
  const reply = dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
    questions: query.questions,
    answers,
  });
  udp.send(reply, port, address);
}

/** A throwaway CA (openssl) and server certificates signed by it. */
function makeTestPki(dir: string) {
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    '/CN=Paddock test upstream CA',
  ]);
  let serial = 0;
  return {
    caFile,
    serverOptions(names: string[]) {
      serial += 1;
      const key = join(dir, `server-${serial}.key`);
      const csr = join(dir, `server-${serial}.csr`);
      const cert = join(dir, `server-${serial}.pem`);
      const ext = join(dir, `server-${serial}.ext`);
      execFileSync('sh', ['-c', `printf 'subjectAltName=%s\\n' "$1" > "$2"`, 'sh', names.map((n) => `DNS:${n}`).join(','), ext]);
      run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${names[0] ?? 'test'}`]);
      run(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
      return { key: readFileSync(key), cert: readFileSync(cert) };
    },
  };
}
