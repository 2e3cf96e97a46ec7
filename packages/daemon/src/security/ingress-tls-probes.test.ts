import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/run-cli.js';
import { daemonMain, startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { sh } from './probe-kit.js';

// Section P (ports and ingress), TLS: the daemon with an operator's
// certificate, made here by openssl from a CA of the test's own: a wildcard
// one for the ingress domain, and the API's loopback names.
const dir = mkdtempSync(join(tmpdir(), 'paddock-tls-'));
const file = (name: string) => join(dir, name);
let daemon: TestDaemon;
let port: number;
let ca: string;
let sbx: Sandbox;

/** One openssl command, its words split on spaces (the test's paths have none). */
function openssl(command: string): void {
  execFileSync('openssl', command.split(' '), { stdio: 'pipe' });
}

/** A CA, and a certificate it signed for *.sandbox.localhost, localhost and 127.0.0.1; plus a stray key and a CA that signed nothing. */
function makeCertificates(): void {
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
  openssl(`req -x509 ${ec} -keyout ${file('ca.key')} -out ${file('ca.pem')} -days 2 -subj /CN=paddock-test-ca`);
  openssl(`req ${ec} -keyout ${file('server.key')} -out ${file('server.csr')} -subj /CN=paddock-test`);
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:*.sandbox.localhost,DNS:localhost,IP:127.0.0.1\n');
  openssl(
    `x509 -req -in ${file('server.csr')} -CA ${file('ca.pem')} -CAkey ${file('ca.key')} -CAcreateserial -out ${file('server.pem')} -days 2 -extfile ${file('san.ext')}`,
  );
  openssl(`genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out ${file('other.key')}`);
  openssl(`req -x509 ${ec} -keyout ${file('other-ca.key')} -out ${file('other-ca.pem')} -days 2 -subj /CN=another-ca`);
  writeFileSync(file('not-pem.txt'), 'not a certificate\n');
}

beforeAll(async () => {
  makeCertificates();
  ca = readFileSync(file('ca.pem'), 'utf8');
  daemon = await startTestDaemon(['--tls-cert', file('server.pem'), '--tls-key', file('server.key')]);
  port = Number(new URL(daemon.url).port);
  sbx = await Sandbox.create({ url: daemon.url, token: daemon.token, ca, tier: 'container' });
  await sbx.files.write('/tmp/echo.py', echoServer);
  await sbx.commands.start(['python3', '/tmp/echo.py', '8000']);
  expect((await sh(sbx, 'for i in $(seq 100); do grep -q ":1F40 00000000:0000 0A" /proc/net/tcp && exit 0; sleep 0.1; done; exit 1')).exitCode).toBe(0);
});

afterAll(async () => {
  await sbx?.kill().catch(() => {});
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Answers with the path and headers it was sent, bound to the sandbox's loopback alone. */
const echoServer = `
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def do_GET(self):
        data = json.dumps({'path': self.path, 'headers': {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
`;

interface Answer {
  status: number;
  body: string;
}

/** One HTTPS request to the daemon's listener on 127.0.0.1, with the TLS name (SNI, and the name checked) and Host the test names. */
function get(path: string, options: { servername?: string; host?: string; headers?: Record<string, string>; ca?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const opts: RequestOptions = {
      host: '127.0.0.1',
      port,
      path,
      servername: options.servername,
      ca: 'ca' in options ? options.ca : ca,
      headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers },
      setHost: false,
      agent: false,
    };
    const req = httpsRequest(opts, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const portHost = (p: number) => `${p}-${sbx.id}.sandbox.localhost`;
const bearer = () => ({ authorization: `Bearer ${daemon.token}` });

describe('ingress over TLS with the operator’s certificate', () => {
  it('P10: the API, both port URL forms, port-forward’s WebSocket and the CLI speak HTTPS; the URLs given out are https', async () => {
    expect(daemon.url).toBe(`https://127.0.0.1:${port}`);
    const urls = await sbx.ports.urls(8000);
    expect(urls.hostUrl).toBe(`https://${portHost(8000)}:${port}/`);
    expect(urls.pathUrl).toBe(`https://127.0.0.1:${port}/v1/sandboxes/${sbx.id}/ports/8000/`);

    // The wildcard certificate covers the port's own name: checked against it, as a browser does.
    const byHost = await get('/hello', { servername: portHost(8000), host: `${portHost(8000)}:${port}`, headers: bearer() });
    expect(byHost.status).toBe(200);
    expect(JSON.parse(byHost.body)).toMatchObject({ path: '/hello', headers: { 'x-forwarded-proto': 'https' } });
    const byPath = await get(`/v1/sandboxes/${sbx.id}/ports/8000/hello`, { headers: bearer() });
    expect(byPath.status).toBe(200);
    expect(JSON.parse(byPath.body).path).toBe('/hello');

    // Raw TCP over a wss:// WebSocket, trusting the same CA.
    const forward = await sbx.ports.forward(8000, { localPort: 0 });
    try {
      const local = await new Promise<Answer>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port: forward.localPort, path: '/through-forward', agent: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => {
            body += d.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
      expect(JSON.parse(local.body).path).toBe('/through-forward');
    } finally {
      await forward.close();
    }

    const env = { ...process.env, PADDOCK_URL: daemon.url, PADDOCK_TOKEN: daemon.token };
    const byFile = await runCli(['port', sbx.id, '8000'], { env: { ...env, PADDOCK_CA_FILE: file('ca.pem') } });
    expect(byFile.stderr).toBe('');
    expect(byFile.stdout).toContain(`https://${portHost(8000)}:${port}/`);
    const byFlag = await runCli(['--ca-file', file('ca.pem'), 'ls', '-q'], { env });
    expect(byFlag.code).toBe(0);
    expect(byFlag.stdout).toContain(sbx.id);
  });

  it('P11: plain HTTP to the TLS listener, an unknown CA, a name the certificate does not cover, and SNI naming another host all get nothing', async () => {
    // Plain HTTP: the handshake fails and the connection closes; no API answer, no sandbox's.
    await expect(
      new Promise((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, path: `/v1/sandboxes/${sbx.id}/ports/8000/`, headers: bearer(), agent: false }, resolve)
          .on('error', reject)
          .end();
      }),
    ).rejects.toThrow();

    // A client that does not trust the operator's CA, or checks a name outside the certificate, refuses the daemon.
    await expect(get('/v1/sandboxes', { headers: bearer(), ca: readFileSync(file('other-ca.pem'), 'utf8') })).rejects.toThrow(
      /self-signed|unable to verify|certificate/i,
    );
    await expect(get('/v1/sandboxes', { servername: 'paddock.example.com', headers: bearer() })).rejects.toThrow(/altnames|does not match/i);
    await expect(Sandbox.connect(sbx.id, { url: daemon.url, token: daemon.token })).rejects.toThrow();

    // SNI is not routing: Host is. A port's name in SNI with the API's Host reaches the API (and its token check) …
    const sniPort = await get('/v1/sandboxes', { servername: portHost(8000) });
    expect(sniPort.status).toBe(401);
    // … and the API's name in SNI with a port's Host reaches that port's gate, which wants a token.
    const sniApi = await get('/hello', { servername: 'localhost', host: `${portHost(8000)}:${port}` });
    expect(sniApi.status).toBe(401);
    expect(sniApi.body).not.toContain('/hello');
  });

  it('a certificate or key that is missing, not PEM or not a pair stops the daemon at start, in one line naming the setting', async () => {
    const start = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(daemonMain, ['--state-dir', join(dir, 'never'), '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.on('close', (code) => resolve({ code, stderr }));
      });
    const cases: Array<[string[], RegExp]> = [
      [['--tls-cert', file('missing.pem'), '--tls-key', file('server.key')], /^paddockd: --tls-cert: cannot read .*missing\.pem \(ENOENT\)\n$/],
      [['--tls-cert', file('not-pem.txt'), '--tls-key', file('server.key')], /^paddockd: --tls-cert: .* is not a PEM certificate\n$/],
      [['--tls-cert', file('server.pem'), '--tls-key', file('not-pem.txt')], /^paddockd: --tls-key: .* is not a PEM private key/],
      [['--tls-cert', file('server.pem'), '--tls-key', file('other.key')], /^paddockd: --tls-key: .* is not the key of the certificate/],
      [['--tls-cert', file('server.pem')], /^paddockd: --tls-cert: needs --tls-key/],
    ];
    for (const [args, message] of cases) {
      const run = await start(args);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    const badCa = await runCli(['--ca-file', file('missing-ca.pem'), 'ls'], { env: { ...process.env, PADDOCK_URL: daemon.url, PADDOCK_TOKEN: daemon.token } });
    expect(badCa.code).not.toBe(0);
    expect(badCa.stderr.trim().split('\n')).toHaveLength(1);
    expect(badCa.stderr).toMatch(/missing-ca\.pem/);
  });
});
