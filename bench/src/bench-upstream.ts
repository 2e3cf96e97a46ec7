import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import type { Cleanup } from './cleanup.js';

/**
 * The upstream the NETWORK benchmarks talk to, all on this host: names from a
 * DNS server of its own (the daemon's egress proxy asks it: --dns-server),
 * HTTP and HTTPS servers on addresses of the benchmarking block added to the
 * host's loopback (opened to the proxy with --egress-allow-range), and a
 * throwaway CA the daemon trusts (NODE_EXTRA_CA_CERTS).
 *
 * It mirrors packages/daemon/src/testing/test-network.ts, which the bench
 * cannot import (the daemon's build leaves src/testing out, and the bench is
 * compiled on its own), with one difference that matters for timing: GET
 * /bytes/<n> streams n bytes from one preallocated buffer instead of
 * allocating and filling n bytes per request.
 */
export interface BenchUpstream {
  /** host:port of the DNS server, for paddockd --dns-server. */
  dnsServer: string;
  /** What the daemon must be started with to reach these servers. */
  daemonArgs: string[];
  daemonEnv: Record<string, string>;
  /** PEM file of the CA that signed the HTTPS servers' certificate, and its text. */
  caFile: string;
  caPem: string;
  /** Reached through the proxy untouched (HTTP, and HTTPS through CONNECT). */
  plain: { name: string; address: string };
  /** HTTPS the proxy opens: a secret is bound to this name. */
  secret: { name: string; address: string };
}

/** Above the addresses the tests use (198.18.99.10 …), so a test run and the bench never share one. */
const range = '198.18.99.0/24';
const plain = { name: 'plain.bench.test', address: '198.18.99.200' };
const secret = { name: 'secret.bench.test', address: '198.18.99.201' };
const chunk = Buffer.alloc(1024 * 1024, 97);

export async function startBenchUpstream(cleanup: Cleanup): Promise<BenchUpstream> {
  const dir = mkdtempSync('/tmp/paddock-bench-net-');
  cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const pki = makePki(dir, [plain.name, secret.name]);

  for (const { address } of [plain, secret]) {
    try {
      execFileSync('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo'], { stdio: 'pipe' });
    } catch (err) {
      const why = String((err as { stderr?: Buffer }).stderr ?? err).trim();
      if (/exists/i.test(why)) continue; // left by another run: it stays its owner's
      throw new Error(`cannot add ${address} to lo: ${why}`);
    }
    cleanup.add(`remove ${address} from lo`, () => void execFileSync('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo'], { stdio: 'pipe' }));
  }

  const names = new Map([plain, secret].map((u) => [u.name, u.address]));
  const udp = createSocket('udp4');
  udp.on('message', (message, peer) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    void answerQuery(query, names).then((reply) => udp.send(reply, peer.port, peer.address));
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  cleanup.add('stop the bench DNS server', () => void udp.close());
  const dnsServer = `127.0.0.1:${(udp.address() as AddressInfo).port}`;

  const tlsOptions = { key: pki.key, cert: pki.cert };
  const servers: Array<[Server, string, number]> = [
    [http.createServer(serve), plain.address, 80],
    [https.createServer(tlsOptions, serve), plain.address, 443],
    [https.createServer(tlsOptions, serve), secret.address, 443],
  ];
  for (const [server, address, port] of servers) {
    // The proxy keeps its upstream connections alive between rounds; so do we.
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => resolve());
    });
    cleanup.add(
      `stop the bench server on ${address}:${port}`,
      () => new Promise<void>((resolve) => server.close(() => resolve()) && server.closeAllConnections()),
    );
  }

  return {
    dnsServer,
    daemonArgs: ['--dns-server', dnsServer, '--egress-allow-range', range],
    daemonEnv: { NODE_EXTRA_CA_CERTS: pki.caFile },
    caFile: pki.caFile,
    caPem: readFileSync(pki.caFile, 'utf8'),
    plain,
    secret,
  };
}

/** GET /bytes/<n>: n bytes, streamed with backpressure; anything else: a short JSON answer. */
function serve(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => {
    const match = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (!match) {
      const body = JSON.stringify({ url: req.url, host: req.headers.host });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return void res.end(body);
    }
    let left = Number(match[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
}

/** A throwaway CA (openssl) and one server certificate for the names, signed by it. */
function makePki(dir: string, names: string[]): { caFile: string; key: Buffer; cert: Buffer } {
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  run(['req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=Paddock bench upstream CA']);
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
  run(['req', ...ec, '-keyout', key, '-out', csr, '-subj', `/CN=${names[0]}`]);
  run(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { caFile, key: readFileSync(key), cert: readFileSync(cert) };
}

/**
 * Our own names from the map; any other name as the host resolves it, so the
 * same daemon can still build templates from Debian's mirror (the code and
 * desktop sections run after this one, and their apt-get failed at once when
 * every other name was NXDOMAIN).
 */
async function answerQuery(query: dnsPacket.DecodedPacket, names: Map<string, string>): Promise<Buffer> {
  const question = query.questions?.[0];
  const name = question?.name.toLowerCase() ?? '';
  const ours = names.get(name);
  const addresses = ours ? [ours] : await hostAddresses(name);
  const answers = question?.type === 'A' ? addresses.map((data) => ({ type: 'A' as const, name: question.name, ttl: 60, data })) : [];
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: dnsPacket.RECURSION_AVAILABLE | (addresses.length > 0 ? 0 : 3),
    questions: query.questions,
    answers,
  });
}

async function hostAddresses(name: string): Promise<string[]> {
  if (!name) return [];
  const found = await lookup(name, { all: true, family: 4 }).catch(() => []);
  return found.map((entry) => entry.address);
}
