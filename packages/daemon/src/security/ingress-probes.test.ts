import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dialHelperPath } from '@paddock/engine';
import { Sandbox } from '@paddock/sdk';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { NamespaceDialer } from '../ingress/namespace-dialer.js';
import { runCli } from '../testing/run-cli.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { probeTiers, sh } from './probe-kit.js';

// Section P (ports and ingress) of docs/security-probes.md: servers inside real
// sandboxes on every tier reached through the daemon's listener, and what a
// client, a browser page or the sandbox itself may not do with that way in.
let daemon: TestDaemon;
let apiPort: number;
const dialBinary = dialHelperPath();
let strangerToken: string;

beforeAll(async () => {
  daemon = await startTestDaemon();
  apiPort = Number(new URL(daemon.url).port);
  const post = (path: string, body: unknown) =>
    daemon.api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await post('/v1/tenants', { name: 'stranger' })).status).toBe(201);
  strangerToken = ((await (await post('/v1/tokens', { tenant: 'stranger', role: 'admin' })).json()) as { token: string }).token;
});

afterAll(async () => {
  await daemon?.stop();
});

/**
 * An HTTP server of the standard library: /echo answers with what it was
 * sent (method, path, headers, the body's digest), /big?n= streams n bytes.
 * It binds 127.0.0.1 only: reached from nowhere but the sandbox itself.
 */
const echoServer = `
import hashlib, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(data)))
        self.send_header('set-cookie', 'app=1; Domain=sandbox.localhost; Path=/')
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        if self.path.startswith('/big'):
            n = int(self.path.split('n=')[1])
            self.send_response(200)
            self.send_header('content-length', str(n))
            self.end_headers()
            chunk = bytes(range(256)) * 256
            while n > 0:
                self.wfile.write(chunk[:min(n, len(chunk))])
                n -= min(n, len(chunk))
            return
        self.answer({'method': 'GET', 'path': self.path, 'headers': {k.lower(): v for k, v in self.headers.items()}})
    def do_POST(self):
        n = int(self.headers.get('content-length', '0'))
        h = hashlib.sha256()
        while n > 0:
            chunk = self.rfile.read(min(n, 65536))
            if not chunk: break
            h.update(chunk)
            n -= len(chunk)
        self.answer({'method': 'POST', 'path': self.path, 'sha256': h.hexdigest(), 'headers': {k.lower(): v for k, v in self.headers.items()}})
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
`;

/** A WebSocket echo server of the standard library alone: each frame comes back as sent. */
const wsEchoServer = `
import base64, hashlib, socket, struct, sys, threading
def serve(conn):
    f = conn.makefile('rb')
    key = ''
    while True:
        line = f.readline()
        if line in (b'\\r\\n', b''): break
        name, _, value = line.decode().partition(':')
        if name.lower() == 'sec-websocket-key': key = value.strip()
    accept = base64.b64encode(hashlib.sha1((key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()).digest()).decode()
    conn.sendall(('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: %s\\r\\n\\r\\n' % accept).encode())
    while True:
        head = f.read(2)
        if len(head) < 2: break
        op, n = head[0] & 15, head[1] & 127
        if n == 126: n = struct.unpack('>H', f.read(2))[0]
        elif n == 127: n = struct.unpack('>Q', f.read(8))[0]
        mask = f.read(4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(f.read(n)))
        if op == 8:
            conn.sendall(b'\\x88\\x00')
            break
        size = bytes([len(data)]) if len(data) < 126 else bytes([126]) + struct.pack('>H', len(data))
        conn.sendall(bytes([0x80 | op]) + size + data)
    conn.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(256)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/** A line protocol: each line comes back upper-cased after "echo: ", until "bye". */
const lineServer = `
import socket, sys, threading
def serve(c):
    f = c.makefile('rwb')
    for line in f:
        if line.strip() == b'bye': break
        f.write(b'echo: ' + line.upper())
        f.flush()
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(256)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/**
 * A server that misbehaves on purpose, for what the daemon hands to the
 * splice helper: an upgrade that answers only once the client's half has
 * ended (the digest of what it got), an answer longer than its
 * Content-Length (a second answer smuggled behind the body) and one shorter.
 */
const rawServer = `
import hashlib, socket, sys, threading
BODY = 2 * 1024 * 1024
def serve(c):
    f = c.makefile('rb')
    head = []
    while True:
        line = f.readline()
        if line in (b'\\r\\n', b''): break
        head.append(line.decode().strip())
    path = head[0].split(' ')[1] if head else ''
    if any(h.lower() == 'upgrade: paddock-half-close' for h in head):
        c.sendall(b'HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: paddock-half-close\\r\\nConnection: Upgrade\\r\\n\\r\\n')
        h = hashlib.sha256()
        while True:
            data = f.read1(65536)
            if not data: break
            h.update(data)
        c.sendall((h.hexdigest() + '\\n').encode())
    elif path == '/smuggle-long':
        c.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-length: %d\\r\\n\\r\\n' % BODY + b'b' * BODY)
        c.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-length: 8\\r\\n\\r\\nsmuggled')
        f.readline()
        c.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-length: 8\\r\\n\\r\\nsmuggled')
    elif path == '/flood' or any(h.lower() == 'upgrade: paddock-flood' for h in head):
        # Bytes without end to a client that reads none; what could be sent is counted in a file.
        if path == '/flood':
            c.sendall(b'HTTP/1.1 200 OK\\r\\nconnection: close\\r\\n\\r\\n')
        else:
            c.sendall(b'HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: paddock-flood\\r\\nConnection: Upgrade\\r\\n\\r\\n')
        chunk, sent = b'f' * 65536, 0
        try:
            while True:
                c.sendall(chunk)
                sent += len(chunk)
                with open('/tmp/flood-sent', 'w') as out: out.write(str(sent))
        except OSError:
            pass
    elif path == '/smuggle-short':
        c.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-length: %d\\r\\n\\r\\n' % BODY + b's' * (BODY // 2))
    else:
        c.sendall(b'HTTP/1.1 200 OK\\r\\ncontent-length: 7\\r\\nconnection: close\\r\\n\\r\\ngenuine')
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(256)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/** Starts the servers and waits until all listen (inside the sandbox, on its own loopback). */
async function withServers(sbx: Sandbox): Promise<void> {
  await sbx.files.write('/tmp/echo.py', echoServer);
  await sbx.files.write('/tmp/ws.py', wsEchoServer);
  await sbx.files.write('/tmp/lines.py', lineServer);
  await sbx.files.write('/tmp/raw.py', rawServer);
  await sbx.commands.start(['python3', '/tmp/echo.py', '8000']);
  await sbx.commands.start(['python3', '/tmp/ws.py', '8001']);
  await sbx.commands.start(['python3', '/tmp/lines.py', '9000']);
  await sbx.commands.start(['python3', '/tmp/raw.py', '8002']);
  const listening = ['1F40', '1F41', '2328', '1F42'].map((hex) => `grep -q ":${hex} 00000000:0000 0A" /proc/net/tcp`).join(' && ');
  const ready = await sh(sbx, `for i in $(seq 100); do ${listening} && exit 0; sleep 0.1; done; exit 1`);
  expect(ready.exitCode).toBe(0);
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request to the daemon's listener, with whatever Host header the test names (a browser's, an attacker's). */
function send(path: string, options: { host?: string; method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: apiPort,
        path,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? `127.0.0.1:${apiPort}`, ...options.headers },
        setHost: false,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const hostOf = (sbx: Sandbox, port: number) => `${port}-${sbx.id}.sandbox.localhost:${apiPort}`;
const bearer = (token = daemon.token) => ({ authorization: `Bearer ${token}` });
const json = (a: Answer) => JSON.parse(a.body.toString()) as { method: string; path: string; headers: Record<string, string>; sha256?: string };
const errorCode = (a: Answer) => (JSON.parse(a.body.toString()) as { error: { code: string } }).error.code;

function wsEcho(url: string, headers: Record<string, string>, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => ws.send(message));
    ws.on('message', (data) => {
      resolve(String(data));
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

/**
 * Descriptors the daemon holds, but for the cgroup counter files its metrics
 * sampler keeps open per running sandbox (opened on its own schedule, they
 * would make a count taken before its tick look like a leak).
 */
function daemonFds(): number {
  const dir = `/proc/${daemon.pid}/fd`;
  return readdirSync(dir).filter((fd) => !readlinkOr(`${dir}/${fd}`).startsWith('/sys/fs/cgroup/')).length;
}

function readlinkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** Descriptors the daemon's splice helper holds (0 when it never started), and its pid. */
function spliceHelper(): { pid: number; fds: number } | undefined {
  return daemonChild('paddock-splice');
}

/** A helper the daemon runs, by its name: its pid and the descriptors it holds. */
function daemonChild(name: string): { pid: number; fds: number } | undefined {
  for (const task of readdirSync(`/proc/${daemon.pid}/task`)) {
    for (const child of readFileSync(`/proc/${daemon.pid}/task/${task}/children`, 'utf8').trim().split(' ').filter(Boolean)) {
      if (readlinkOr(`/proc/${child}/exe`).endsWith(`/${name}`)) return { pid: Number(child), fds: readdirSync(`/proc/${child}/fd`).length };
    }
  }
  return undefined;
}

/**
 * A program that dials through NamespaceDialer (the daemon's, from dist/),
 * fills its own descriptor table, dials again, frees it and dials once more;
 * it prints what each dial gave.
 */
function starvedDialer(netnsDir: string, procsDir: string, id: string, port: number): string {
  const dialer = fileURLToPath(new URL('../../dist/ingress/namespace-dialer.js', import.meta.url));
  return `
import { closeSync, openSync } from 'node:fs';
import { NamespaceDialer } from ${JSON.stringify(dialer)};
const keep = setInterval(() => {}, 1000);
const logger = { warn() {} };
const dialer = new NamespaceDialer({ binary: ${JSON.stringify(dialBinary)}, sources: { netnsDir: ${JSON.stringify(netnsDir)}, procsDir: ${JSON.stringify(procsDir)}, cgroupPath: '/paddock-probe' }, logger });
const dial = () => dialer.dial(${JSON.stringify(id)}, ${port}, { timeoutMs: 10000 }).then((s) => (s ? (s.destroy(), 'socket') : 'fallback'), (e) => 'error ' + e.code);
const first = await dial();
const held = [];
try { for (;;) held.push(openSync('/dev/null', 'r')); } catch {}
const starved = await dial();
for (const fd of held) closeSync(fd);
const after = await dial();
console.log(JSON.stringify({ first, starved, after }));
dialer.close();
clearInterval(keep);
`;
}

type AuditRecords = { records: Array<{ action: string; resource: string; decision: string; details: Record<string, unknown> }> };

/** How the audited connections into a sandbox's port were opened (details.route), oldest first. */
async function routesTo(sbx: Sandbox, port: number): Promise<unknown[]> {
  const audit = (await (await daemon.api('/v1/audit?limit=2000&order=desc')).json()) as AuditRecords;
  return audit.records
    .filter((r) => r.action === 'sandbox.port.open' && r.resource === `sandbox:${sbx.id}` && r.details.port === port && r.decision === 'allow')
    .map((r) => r.details.route)
    .reverse();
}

/** The agent's processes in a sandbox: one per connection it serves (the count itself is one). */
async function agentProcesses(sbx: Sandbox): Promise<number> {
  const r = await sh(sbx, 'grep -lx paddock-agent /proc/[0-9]*/comm 2>/dev/null | wc -l');
  return Number(r.stdout.trim());
}

/**
 * The sandbox's agent processes holding a TCP socket of its network namespace:
 * those relaying a connection (the egress relay's listeners count too). The
 * others come and go with calls (a call's handler, one waiting for the next).
 */
async function agentProcessesOnTcp(sbx: Sandbox): Promise<number> {
  const script = [
    "tcp=$(awk 'NR>1{print $10}' /proc/net/tcp /proc/net/tcp6 2>/dev/null); n=0",
    'for c in /proc/[0-9]*/comm; do',
    '  [ "$(cat "$c" 2>/dev/null)" = paddock-agent ] || continue',
    '  for f in "$(dirname "$c")"/fd/*; do',
    '    i=$(readlink "$f" 2>/dev/null | sed -n \'s/^socket:\\[\\([0-9]*\\)\\]$/\\1/p\')',
    '    [ -n "$i" ] && echo "$tcp" | grep -qx "$i" && { n=$((n+1)); break; }',
    '  done',
    'done; echo $n',
  ].join('\n');
  const r = await sh(sbx, script, 'root');
  return Number(r.stdout.trim());
}

/** Raw bytes to the daemon's listener; resolves with all it is sent until it closes. */
function rawExchange(request: string, then: (socket: ReturnType<typeof connect>, head: string) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: apiPort, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let answered = false;
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (!answered && end >= 0) {
        answered = true;
        chunks.length = 0;
        if (all.length > end + 4) chunks.push(all.subarray(end + 4));
        then(socket, all.subarray(0, end).toString());
      }
    });
    socket.on('end', () => {
      socket.destroy();
      resolve(Buffer.concat(chunks));
    });
    socket.on('error', reject);
    socket.write(request);
  });
}

function daemonRssKiB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${daemon.pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

describe.each(probeTiers)('ingress on the %s tier', (tier) => {
  let sbx: Sandbox;

  beforeAll(async () => {
    sbx = await Sandbox.create({ ...daemon.conn, tier });
    await withServers(sbx);
  });

  afterAll(async () => {
    await sbx?.kill().catch(() => {});
  });

  it('P1: a server bound to 127.0.0.1 inside is reached by host and by path routing; it never sees the Paddock token', async () => {
    const byHost = await send('/echo?x=1', { host: hostOf(sbx, 8000), headers: bearer() });
    expect(byHost.status).toBe(200);
    expect(json(byHost).path).toBe('/echo?x=1');
    expect(json(byHost).headers.authorization).toBeUndefined();
    // A cookie the server scopes to the whole domain would reach every other sandbox: it is kept to this host.
    expect(String(byHost.headers['set-cookie'])).not.toMatch(/domain/i);

    const byPath = await send(`/v1/sandboxes/${sbx.id}/ports/8000/echo?x=2`, { headers: bearer() });
    expect(byPath.status).toBe(200);
    expect(json(byPath).path).toBe('/echo?x=2');
    expect(json(byPath).headers['x-forwarded-prefix']).toBe(`/v1/sandboxes/${sbx.id}/ports/8000`);
    expect(json(byPath).headers.authorization).toBeUndefined();
    // Every sandbox shares the API's origin on the path form: its pages get an opaque origin and set no cookies.
    expect(byPath.headers['content-security-policy']).toMatch(/^sandbox /);
    expect(byPath.headers['set-cookie']).toBeUndefined();

    // `..` in the path stays a path of this server: it names no other sandbox or port.
    const dotted = await send(`/v1/sandboxes/${sbx.id}/ports/8000/../../${sbx.id}/ports/8001/echo`, { headers: bearer() });
    expect(json(dotted).path).toBe(`/../../${sbx.id}/ports/8001/echo`);

    const { ports } = await sbx.ports.list();
    expect(ports.map((p) => [p.port, p.address])).toEqual(
      expect.arrayContaining([
        [8000, '127.0.0.1'],
        [8001, '127.0.0.1'],
      ]),
    );
    // The egress relay's listeners are Paddock's: not offered as the sandbox's servers.
    expect(ports.map((p) => p.port).filter((p) => [53, 3128, 15001, 15002].includes(p))).toEqual([]);
    expect(await sbx.getHost(8000)).toBe(hostOf(sbx, 8000));

    const audit = (await (await daemon.api('/v1/audit?limit=1000')).json()) as {
      records: Array<{ action: string; resource: string; details: Record<string, unknown> }>;
    };
    const opened = audit.records.filter((r) => r.action === 'sandbox.port.open' && r.resource === `sandbox:${sbx.id}`);
    expect(opened.length).toBeGreaterThanOrEqual(2);
    expect(opened[0]?.details).toMatchObject({ port: 8000, client: '127.0.0.1', via: 'token' });
  });

  it('P2: a WebSocket upgrade passes through to the server inside, by host and by path', async () => {
    expect(await wsEcho(`ws://127.0.0.1:${apiPort}/`, { host: hostOf(sbx, 8001), ...bearer() }, 'hello by host')).toBe('hello by host');
    expect(await wsEcho(`ws://127.0.0.1:${apiPort}/v1/sandboxes/${sbx.id}/ports/8001/`, bearer(), 'hello by path')).toBe('hello by path');
    await expect(wsEcho(`ws://127.0.0.1:${apiPort}/`, { host: hostOf(sbx, 8001) }, 'no token')).rejects.toThrow('refused: 401');
  });

  it('P3: 100 MB stream out of the sandbox and 32 MB into it, whole, without the daemon holding them', async () => {
    const before = daemonRssKiB();
    const size = 100 * 1024 * 1024;
    const digest = await downloadDigest(`/v1/sandboxes/${sbx.id}/ports/8000/big?n=${size}`, bearer());
    expect(digest).toEqual({ bytes: size, sha256: patternDigest(size) });

    const upload = Buffer.alloc(32 * 1024 * 1024, 7);
    const posted = await send(`/v1/sandboxes/${sbx.id}/ports/8000/echo`, { method: 'POST', headers: bearer(), body: upload });
    expect(json(posted).sha256).toBe(createHash('sha256').update(upload).digest('hex'));
    // Streamed, not held: the daemon grows by far less than what went through it.
    expect(daemonRssKiB() - before).toBeLessThan(64 * 1024);
  });

  it('an upgraded connection passes a half-close on: the client ends its half and still reads the answer', async () => {
    const sent = randomBytes(5 * 1024 * 1024);
    const request = `GET /x HTTP/1.1\r\nHost: ${hostOf(sbx, 8002)}\r\nAuthorization: Bearer ${daemon.token}\r\nConnection: Upgrade\r\nUpgrade: paddock-half-close\r\n\r\n`;
    let status = '';
    const answer = await rawExchange(request, (socket, head) => {
      status = head.split('\r\n')[0] ?? '';
      socket.end(sent);
    });
    expect(status).toBe('HTTP/1.1 101 Switching Protocols');
    expect(answer.toString()).toBe(`${createHash('sha256').update(sent).digest('hex')}\n`);
  });

  it('P12: a server inside that sends more than its Content-Length (an answer smuggled behind a long body) or less cannot make the client read its bytes as another answer', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = (path: string) =>
        new Promise<{ status: number; body: Buffer; complete: boolean; reused: boolean }>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port: apiPort, path, headers: { host: hostOf(sbx, 8002), ...bearer() }, agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', () => {});
            res.on('close', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete, reused: req.reusedSocket }));
          });
          req.on('error', reject);
          req.end();
        });
      const long = await get('/smuggle-long');
      expect([long.status, long.complete, long.body.length]).toEqual([200, true, 2 * 1024 * 1024]);
      expect(long.body.every((b) => b === 0x62)).toBe(true);
      // The same client connection, kept alive, to the same port: the next answer is the server's, not the smuggled one.
      const next = await get('/genuine');
      expect(next.reused).toBe(true);
      expect([next.status, next.body.toString()]).toEqual([200, 'genuine']);
      const short = await get('/smuggle-short');
      expect([short.status, short.complete]).toEqual([200, false]);
      expect(short.body.length).toBeLessThan(2 * 1024 * 1024);
      const after = await get('/genuine');
      expect([after.status, after.body.toString()]).toEqual([200, 'genuine']);
    } finally {
      agent.destroy();
    }
  });

  it('P13: a client that leaves mid-download: the daemon, the splice helper and the sandbox keep nothing of its connection', async () => {
    // Warm: the helper is running and this sandbox's agent answered before the baseline is taken.
    expect((await send('/echo', { host: hostOf(sbx, 8000), headers: bearer() })).status).toBe(200);
    const fds = daemonFds();
    const helperFds = spliceHelper()?.fds ?? 0;
    const inSandbox = await agentProcesses(sbx);
    const got = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: apiPort, path: `/big?n=${10 * 1024 * 1024 * 1024}`, headers: { host: hostOf(sbx, 8000), ...bearer() }, agent: false },
        (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            if (n >= 20 * 1024 * 1024) {
              req.destroy();
              resolve(n);
            }
          });
          res.on('error', () => {});
        },
      );
      req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
      req.end();
    });
    expect(got).toBeGreaterThanOrEqual(20 * 1024 * 1024);
    for (let i = 0; i < 50 && (daemonFds() > fds || (spliceHelper()?.fds ?? 0) > helperFds); i++) await new Promise((r) => setTimeout(r, 100));
    expect(daemonFds()).toBeLessThanOrEqual(fds);
    expect(spliceHelper()?.fds ?? 0).toBeLessThanOrEqual(helperFds);
    await expect.poll(() => agentProcesses(sbx), { timeout: 10_000 }).toBeLessThanOrEqual(inSandbox);
  });

  it('P14: a server inside that floods a client reading nothing (an answer without length, an upgraded connection) is held back; once the client leaves, nothing of the connection is left', async () => {
    expect((await send('/echo', { host: hostOf(sbx, 8000), headers: bearer() })).status).toBe(200);
    const fds = daemonFds();
    const helperFds = spliceHelper()?.fds ?? 0;
    const inSandbox = await agentProcesses(sbx);
    const rss = daemonRssKiB();
    const sent = async () => Number((await sh(sbx, 'cat /tmp/flood-sent 2>/dev/null || echo 0')).stdout.trim());
    const stalled = (request: string) =>
      new Promise<ReturnType<typeof connect>>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: apiPort });
        socket.once('data', () => {
          socket.pause();
          resolve(socket);
        });
        socket.on('error', reject);
        socket.write(request);
      });
    for (const request of [
      `GET /flood HTTP/1.1\r\nHost: ${hostOf(sbx, 8002)}\r\nAuthorization: Bearer ${daemon.token}\r\n\r\n`,
      `GET /x HTTP/1.1\r\nHost: ${hostOf(sbx, 8002)}\r\nAuthorization: Bearer ${daemon.token}\r\nConnection: Upgrade\r\nUpgrade: paddock-flood\r\n\r\n`,
    ]) {
      await sh(sbx, 'rm -f /tmp/flood-sent');
      const socket = await stalled(request);
      // The server stops once every buffer on the way is full: it is not read from faster than the client reads.
      const seen: number[] = [];
      while (seen.length < 60 && !(seen.length >= 3 && seen.slice(-3).every((n) => n > 0 && n === seen.at(-1)))) {
        await new Promise((r) => setTimeout(r, 300));
        seen.push(await sent());
      }
      expect(seen.slice(-3).every((n) => n > 0 && n === seen.at(-1))).toBe(true);
      expect(seen.at(-1)).toBeLessThan(96 * 1024 * 1024);
      expect(daemonRssKiB() - rss).toBeLessThan(64 * 1024);
      socket.destroy();
    }
    for (let i = 0; i < 50 && (daemonFds() > fds || (spliceHelper()?.fds ?? 0) > helperFds); i++) await new Promise((r) => setTimeout(r, 100));
    expect(daemonFds()).toBeLessThanOrEqual(fds);
    expect(spliceHelper()?.fds ?? 0).toBeLessThanOrEqual(helperFds);
    await expect.poll(() => agentProcesses(sbx), { timeout: 10_000 }).toBeLessThanOrEqual(inSandbox);
  });

  it("P15: a sandbox whose root has spent its pipe quota (the agent's too) still gets a long download through whole: the relay copies instead of splicing", async () => {
    // Pipes of 1 MiB until the kernel refuses one (fs.pipe-user-pages-soft; gVisor has no such quota: 200 at most), held open.
    const hog = [
      'import fcntl, os, time',
      'held = []',
      'try:',
      '    for _ in range(200):',
      '        r, w = os.pipe()',
      '        held.append((r, w))',
      '        fcntl.fcntl(w, 1031, 1 << 20)',
      'except OSError:',
      '    pass',
      "open('/tmp/hog-ready', 'w').write(str(os.getpid()))",
      'time.sleep(3600)',
    ].join('\n');
    await sbx.commands.start(['python3', '-c', hog]);
    expect((await sh(sbx, 'for i in $(seq 100); do [ -s /tmp/hog-ready ] && exit 0; sleep 0.1; done; exit 1')).exitCode).toBe(0);
    try {
      const size = 32 * 1024 * 1024;
      const got = await downloadDigest(`/big?n=${size}`, { host: hostOf(sbx, 8000), ...bearer() });
      expect(got).toEqual({ bytes: size, sha256: patternDigest(size) });
    } finally {
      await sh(sbx, 'kill $(cat /tmp/hog-ready); rm -f /tmp/hog-ready');
    }
  });

  it("P4: another tenant's token finds no such sandbox (404) on either form; no token is 401; a port nobody listens on is 502", async () => {
    const theirs = await send('/echo', { host: hostOf(sbx, 8000), headers: bearer(strangerToken) });
    expect([theirs.status, errorCode(theirs)]).toEqual([404, 'sandbox_not_found']);
    const theirsByPath = await send(`/v1/sandboxes/${sbx.id}/ports/8000/echo`, { headers: bearer(strangerToken) });
    expect([theirsByPath.status, errorCode(theirsByPath)]).toEqual([404, 'sandbox_not_found']);
    await expect(wsEcho(`ws://127.0.0.1:${apiPort}/`, { host: hostOf(sbx, 8001), ...bearer(strangerToken) }, 'x')).rejects.toThrow('refused: 404');

    const anonymous = await send('/echo', { host: hostOf(sbx, 8000) });
    expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'unauthorized']);
    const nobody = await send('/', { host: hostOf(sbx, 8099), headers: bearer() });
    expect([nobody.status, errorCode(nobody)]).toEqual([502, 'port_not_listening']);
    const bad = await send(`/v1/sandboxes/${sbx.id}/ports/70000/`, { headers: bearer() });
    expect([bad.status, errorCode(bad)]).toEqual([400, 'invalid_port']);
  });

  it('P5: DNS rebinding and foreign origins: a Host outside the port names, or a page of another origin, is refused', async () => {
    // A rebinding page's requests name its own domain: neither a port URL nor the API's host.
    const rebound = await send(`/v1/sandboxes/${sbx.id}/ports/8000/echo`, { host: `evil.example:${apiPort}`, headers: bearer() });
    expect([rebound.status, errorCode(rebound)]).toEqual([403, 'forbidden_host']);
    const suffixed = await send('/echo', { host: `8000-${sbx.id}.sandbox.localhost.evil.example:${apiPort}`, headers: bearer() });
    expect(suffixed.status).toBe(403);
    // A name in the ingress domain that is no port URL is refused, never served the API.
    const bare = await send('/v1/sandboxes', { host: `sandbox.localhost:${apiPort}`, headers: bearer() });
    expect([bare.status, errorCode(bare)]).toEqual([400, 'bad_host']);
    // On a port's host the API does not exist: its paths are the server's.
    const apiPath = await send('/v1/sandboxes', { host: hostOf(sbx, 8000), headers: bearer() });
    expect(json(apiPath).path).toBe('/v1/sandboxes');
    const foreign = await send(`/v1/sandboxes/${sbx.id}/ports/8000/echo`, { headers: { ...bearer(), origin: 'http://evil.example' } });
    expect([foreign.status, errorCode(foreign)]).toEqual([403, 'forbidden_origin']);
  });

  it("P16: a container sandbox's port is dialled from a socket made in its own network namespace, no process of the sandbox relaying it; gVisor's by its agent", async () => {
    const before = await agentProcessesOnTcp(sbx);
    // An open WebSocket holds its connection into the sandbox while the sandbox's processes are counted.
    const ws = new WebSocket(`ws://127.0.0.1:${apiPort}/`, { headers: { host: hostOf(sbx, 8001), ...bearer() } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const during = await agentProcessesOnTcp(sbx);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.close();
    await closed;
    const route = tier === 'container' ? 'namespace' : 'agent';
    await expect.poll(async () => (await routesTo(sbx, 8001)).at(-1)).toBe(route);
    if (tier === 'container') expect(during).toBeLessThanOrEqual(before);
    // Every connection of the tests before, plain requests, downloads and upgrades alike, took the same way.
    for (const port of [8000, 8002]) expect(new Set(await routesTo(sbx, port))).toEqual(new Set([route]));
  });

  it('P6: the sandbox cannot use ingress to reach the daemon, the host or Paddock’s own listeners in it', async () => {
    // The daemon's listener is on the host's loopback: from the sandbox's own loopback, and through its egress, it is not there.
    const script = [
      `curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: 8000-${sbx.id}.sandbox.localhost' http://127.0.0.1:${apiPort}/echo; echo " loopback=$?"`,
      `curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://8000-${sbx.id}.sandbox.localhost:${apiPort}/echo; echo " name=$?"`,
      `gw=$(awk 'NR>1 && $2=="00000000" {print $3}' /proc/net/route | head -1)`,
      `ip=$(printf '%d.%d.%d.%d' 0x\${gw:6:2} 0x\${gw:4:2} 0x\${gw:2:2} 0x\${gw:0:2})`,
      `curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://$ip:${apiPort}/v1/sandboxes/${sbx.id}/ports/8000/echo; echo " proxied=$?"`,
      `curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 5 http://$ip:${apiPort}/v1/sandboxes/${sbx.id}/ports/8000/echo; echo " direct=$?"`,
    ].join('\n');
    const tried = await sh(sbx, `bash -c '${script.replace(/'/g, `'\\''`)}'`);
    const lines = tried.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    // Nothing answers on the sandbox's own loopback, the egress proxy refuses the host's address, and no route goes there directly.
    for (const line of lines) expect(line).not.toMatch(/^200/);
    expect(lines.find((l) => l.includes('proxied='))).toMatch(/^403 /);
    // The relay's listeners on the sandbox's loopback are Paddock's plumbing, not a port of the sandbox's.
    for (const port of [3128, 15001, 15002, 53]) {
      const plumbing = await send(`/v1/sandboxes/${sbx.id}/ports/${port}/`, { headers: bearer() });
      expect([plumbing.status, errorCode(plumbing)]).toEqual([400, 'invalid_port']);
    }
  });

  it('P7: a public link opens its port without a token until it expires or is revoked; its cookie is refused to other origins', async () => {
    const link = await sbx.ports.expose(8000, { public: true, ttlMs: 60_000 });
    const secret = new URL(link.hostUrl).searchParams.get('paddock_link') as string;
    expect(new URL(link.hostUrl).host).toBe(hostOf(sbx, 8000));
    const viaLink = await send(`/echo?paddock_link=${secret}&a=1`, { host: hostOf(sbx, 8000) });
    expect(viaLink.status).toBe(200);
    // The server never sees the link's secret.
    expect(json(viaLink).path).toBe('/echo?a=1');
    const viaPath = await send(new URL(link.pathUrl).pathname + new URL(link.pathUrl).search, {});
    expect(viaPath.status).toBe(200);
    // Not a key to another port of the same sandbox.
    expect((await send(`/?paddock_link=${secret}`, { host: hostOf(sbx, 8001) })).status).toBe(401);

    // A browser: the secret moves into a cookie of this host alone.
    const opened = await send(`/echo?paddock_link=${secret}`, { host: hostOf(sbx, 8000), headers: { accept: 'text/html' } });
    expect(opened.status).toBe(302);
    expect(opened.headers.location).toBe('/echo');
    const cookie = String(opened.headers['set-cookie']).split(';')[0] as string;
    expect(String(opened.headers['set-cookie'])).toMatch(/HttpOnly/);
    const withCookie = await send('/echo', { host: hostOf(sbx, 8000), headers: { cookie: `${cookie}; theirs=1`, origin: `http://${hostOf(sbx, 8000)}` } });
    expect(withCookie.status).toBe(200);
    expect(json(withCookie).headers.cookie).toBe('theirs=1');
    // Another origin (a page of another sandbox port, a site the user visits) cannot spend the cookie.
    const otherPort = await send('/echo', { host: hostOf(sbx, 8000), headers: { cookie, origin: `http://${hostOf(sbx, 8001)}` } });
    expect([otherPort.status, errorCode(otherPort)]).toEqual([403, 'forbidden_origin']);
    const sameSite = await send('/echo', { host: hostOf(sbx, 8000), headers: { cookie, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' } });
    expect(sameSite.status).toBe(403);
    // The path form shares the API's origin: no cookie opens anything there.
    expect((await send(`/v1/sandboxes/${sbx.id}/ports/8000/echo`, { headers: { cookie } })).status).toBe(401);

    expect((await sbx.ports.list()).links.map((l) => l.id)).toContain(link.id);
    await sbx.ports.revoke(link.id);
    expect((await send(`/echo?paddock_link=${secret}`, { host: hostOf(sbx, 8000) })).status).toBe(401);
    expect((await send('/echo', { host: hostOf(sbx, 8000), headers: { cookie } })).status).toBe(401);
    expect((await sbx.ports.list()).links.map((l) => l.id)).not.toContain(link.id);

    const brief = await sbx.ports.expose(8000, { public: true, ttlMs: 1000 });
    const briefSecret = new URL(brief.hostUrl).searchParams.get('paddock_link') as string;
    expect((await send(`/echo?paddock_link=${briefSecret}`, { host: hostOf(sbx, 8000) })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    const expired = await send(`/echo?paddock_link=${briefSecret}`, { host: hostOf(sbx, 8000) });
    expect([expired.status, errorCode(expired)]).toEqual([401, 'unauthorized']);
  });
});

/** One conversation over a forwarded port: each line sent, each answer read. */
function converse(port: number, lines: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const answers: string[] = [];
    let buffered = '';
    socket.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      answers.push(...parts);
      if (answers.length === lines.length) socket.end('bye\n');
    });
    socket.on('close', () => resolve(answers));
    socket.on('error', reject);
    socket.write(lines.map((l) => `${l}\n`).join(''));
  });
}

describe.each(probeTiers)('port-forward on the %s tier', (tier) => {
  it("P9: raw TCP to a port on the sandbox's loopback, many connections at once; refused without the sandbox's token or where nothing listens", async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    await withServers(sbx);
    const errors: string[] = [];
    const fwd = await sbx.ports.forward(9000, { onError: (err) => errors.push(err.code) });
    const conversations = Array.from({ length: 20 }, (_, i) => converse(fwd.localPort, [`hello ${i}`, `line two of ${i}`]));
    expect(await Promise.all(conversations)).toEqual(Array.from({ length: 20 }, (_, i) => [`echo: HELLO ${i}`, `echo: LINE TWO OF ${i}`]));
    expect(errors).toEqual([]);
    await fwd.close();

    const nothing = await sbx.ports.forward(9001, { onError: (err) => errors.push(err.code) });
    expect(await converse(nothing.localPort, ['x'])).toEqual([]);
    expect(errors).toEqual(['port_not_listening']);
    await nothing.close();

    await expect(wsEcho(`ws://127.0.0.1:${apiPort}/v1/sandboxes/${sbx.id}/port-forward/9000`, bearer(strangerToken), 'x')).rejects.toThrow('refused: 404');
    await expect(wsEcho(`ws://127.0.0.1:${apiPort}/v1/sandboxes/${sbx.id}/port-forward/3128`, bearer(), 'x')).rejects.toThrow('refused: 400');
    const audit = (await (await daemon.api('/v1/audit?limit=2000')).json()) as {
      records: Array<{ action: string; resource: string; details: Record<string, unknown> }>;
    };
    const forwarded = audit.records.filter((r) => r.action === 'sandbox.port.open' && r.resource === `sandbox:${sbx.id}` && r.details.via === 'forward');
    expect(forwarded.length).toBeGreaterThanOrEqual(20);
    await sbx.kill();
  });
});

describe.each(probeTiers)('ingress connections when their sandbox ends, on the %s tier', (tier) => {
  it('P8: many open connections (WebSockets and a download) all close when the sandbox is killed; the daemon keeps no descriptor of them', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    await withServers(sbx);
    const baseline = daemonFds();
    const helperBaseline = spliceHelper()?.fds ?? 0;
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 60; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${apiPort}/`, { headers: { host: hostOf(sbx, 8001), ...bearer() } });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      sockets.push(ws);
    }
    const closed = sockets.map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
    const download = new Promise<string>((resolve) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: apiPort, path: `/v1/sandboxes/${sbx.id}/ports/8000/big?n=${10 * 1024 * 1024 * 1024}`, headers: bearer(), agent: false },
        (res) => {
          // Read (and dropped) as it comes: a paused client would not see its connection end at all.
          res.resume();
          res.on('error', () => {});
          res.on('close', () => resolve(res.complete ? 'complete' : 'cut'));
        },
      );
      req.on('error', () => resolve('cut'));
      req.end();
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(daemonFds()).toBeGreaterThan(baseline + 60);

    await sbx.kill();
    await Promise.all(closed);
    expect(await download).toBe('cut');
    // What is left of the connections is closed: back to where the daemon was before they opened.
    for (let i = 0; i < 50 && daemonFds() > baseline; i++) await new Promise((r) => setTimeout(r, 100));
    expect(daemonFds()).toBeLessThanOrEqual(baseline);
    // The splice helper, which moved the download and the WebSockets' bytes, lets go of them too.
    await expect.poll(() => spliceHelper()?.fds ?? 0).toBeLessThanOrEqual(helperBaseline);
    const gone = await send('/echo', { host: hostOf(sbx, 8000), headers: bearer() });
    expect([gone.status, errorCode(gone)]).toEqual([404, 'sandbox_not_found']);
  });
});

describe('ingress through paddock-dial, on the container tier', () => {
  it('P16: a sandbox without a network has its namespace found through its cgroup; a server on its loopback is reached by a socket made there', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier: 'container', network: { mode: 'none' } });
    try {
      await withServers(sbx);
      const echoed = await send('/echo?none=1', { host: hostOf(sbx, 8000), headers: bearer() });
      expect([echoed.status, json(echoed).path]).toEqual([200, '/echo?none=1']);
      const size = 8 * 1024 * 1024;
      expect(await downloadDigest(`/big?n=${size}`, { host: hostOf(sbx, 8000), ...bearer() })).toEqual({ bytes: size, sha256: patternDigest(size) });
      const nothing = await send('/', { host: hostOf(sbx, 8009), headers: bearer() });
      expect([nothing.status, errorCode(nothing)]).toEqual([502, 'port_not_listening']);
      await expect.poll(async () => new Set(await routesTo(sbx, 8000))).toEqual(new Set(['namespace']));
    } finally {
      await sbx.kill();
    }
  });

  it('P17: paddock-dial killed: the next connections are opened all the same (by the agent meanwhile), and the daemon starts it again', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier: 'container' });
    // Port 8002 closes each connection after its answer: every request opens a new one (none is kept in the daemon's pool).
    const genuine = async () => {
      const answer = await send('/genuine', { host: hostOf(sbx, 8002), headers: bearer() });
      return [answer.status, answer.body.toString()];
    };
    try {
      await withServers(sbx);
      expect(await genuine()).toEqual([200, 'genuine']);
      const first = daemonChild('paddock-dial');
      expect(first).toBeDefined();
      process.kill(first?.pid ?? 0, 'SIGKILL');
      for (let i = 0; i < 5; i++) expect(await genuine()).toEqual([200, 'genuine']);
      await expect.poll(() => daemonChild('paddock-dial')?.pid).toBeGreaterThan(0);
      expect(daemonChild('paddock-dial')?.pid).not.toBe(first?.pid);
      expect(await genuine()).toEqual([200, 'genuine']);
      await expect.poll(async () => (await routesTo(sbx, 8002)).at(-1)).toBe('namespace');
    } finally {
      await sbx.kill();
    }
  });

  it("P18: paddock-dial enters only a sandbox's namespace named by id: never the host's (a netns file bound to it, or a link), never a process outside the sandbox's cgroup, no path, no port out of range; a daemon out of descriptors is told, not left waiting", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-dial-probe-'));
    const procs = join(dir, 'procs');
    const mounted: string[] = [];
    // A server on the host's loopback, on the port every request below names: it must hear nothing.
    const heard: string[] = [];
    const hostServer = createNetServer((c) => {
      heard.push('connection');
      c.destroy();
    });
    await new Promise<void>((resolve) => hostServer.listen(0, '127.0.0.1', resolve));
    const port = (hostServer.address() as AddressInfo).port;
    const dialer = new NamespaceDialer({
      binary: dialBinary,
      sources: { netnsDir: dir, procsDir: procs, cgroupPath: '/paddock-probe' },
      logger: pino({ level: 'silent' }),
    });
    try {
      mkdirSync(join(dir, 'hostns'));
      writeFileSync(join(dir, 'hostns', 'netns'), '');
      execFileSync('mount', ['--bind', '/proc/self/ns/net', join(dir, 'hostns', 'netns')]);
      mounted.push(join(dir, 'hostns', 'netns'));
      mkdirSync(join(dir, 'linked'));
      symlinkSync('/proc/1/ns/net', join(dir, 'linked', 'netns'));
      // A cgroup that lists a host process (this test's): it is not in the sandbox's cgroup, so never entered.
      mkdirSync(join(procs, 'listed'), { recursive: true });
      writeFileSync(join(procs, 'listed', 'cgroup.procs'), `${process.pid}\n1\n`);
      for (const id of ['hostns', 'linked', 'listed', 'absent', '..', 'a/b', 'x'.repeat(65)]) {
        expect(await dialer.dial(id, port, { timeoutMs: 10_000 }), id).toBeUndefined();
      }
      // A namespace of its own, with a server of the same port inside: that one is reached.
      mkdirSync(join(dir, 'real'));
      writeFileSync(join(dir, 'real', 'netns'), '');
      execFileSync('unshare', [`--net=${join(dir, 'real', 'netns')}`, 'true']);
      mounted.push(join(dir, 'real', 'netns'));
      const inside = spawn('nsenter', [
        `--net=${join(dir, 'real', 'netns')}`,
        'python3',
        '-c',
        `import socket, subprocess
subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
s = socket.socket(); s.bind(('127.0.0.1', ${port})); s.listen(8); print('ready', flush=True)
while True:
    c, _ = s.accept(); c.sendall(b'inside'); c.close()`,
      ]);
      try {
        await new Promise((resolve) => inside.stdout.once('data', resolve));
        const socket = await dialer.dial('real', port, { timeoutMs: 10_000 });
        expect(socket).toBeDefined();
        const said = await new Promise<string>((resolve) => {
          const chunks: Buffer[] = [];
          socket?.on('data', (d: Buffer) => chunks.push(d));
          socket?.on('close', () => resolve(Buffer.concat(chunks).toString()));
        });
        expect(said).toBe('inside');
        await expect(dialer.dial('real', port + 1 > 65535 ? port - 1 : port + 1, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'port_not_listening' });
        for (const bad of [0, 65536, -1]) expect(await dialer.dial('real', bad, { timeoutMs: 10_000 })).toBeUndefined();
        // A daemon out of descriptors cannot take the socket: that connection is the agent's to try, at once, not a wait for a timeout.
        const starved = spawnSync('prlimit', ['--nofile=256:256', process.execPath, '--input-type=module', '-e', starvedDialer(dir, procs, 'real', port)], {
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(JSON.parse(starved.stdout.trim().split('\n').at(-1) ?? '{}'), starved.stderr).toEqual({ first: 'socket', starved: 'fallback', after: 'socket' });
      } finally {
        inside.kill('SIGKILL');
      }
      expect(heard).toEqual([]);
    } finally {
      dialer.close();
      hostServer.close();
      for (const path of mounted) execFileSync('umount', [path]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('paddock run -p', () => {
  it('prints the URLs of the port on stderr once the command listens on it', async () => {
    const script =
      'python3 -m http.server 8000 --bind 127.0.0.1 >/dev/null 2>&1 & for i in $(seq 100); do grep -q ":1F40 " /proc/net/tcp && break; sleep 0.1; done; sleep 1; echo done';
    const run = await runCli(['run', '-p', '8000', '--', 'sh', '-c', script], { env: daemon.env });
    expect([run.code, run.stdout]).toEqual([0, 'done\n']);
    expect(run.stderr).toMatch(
      /^port 8000: http:\/\/8000-sb-[a-z0-9]{12}\.sandbox\.localhost:\d+\/ \(or http:\/\/127\.0\.0\.1:\d+\/v1\/sandboxes\/sb-[a-z0-9]{12}\/ports\/8000\/\)$/m,
    );
  });
});

/** Streams a download through the daemon's listener, keeping only its size and SHA-256. */
function downloadDigest(path: string, headers: Record<string, string>): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: apiPort, path, headers, agent: false }, (res) => {
      const h = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        h.update(c);
      });
      res.on('end', () => resolve({ bytes, sha256: h.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The SHA-256 of `size` bytes of the test server's /big pattern (0, 1, … 255, repeated). */
function patternDigest(size: number): string {
  const pattern = Buffer.alloc(65536, 0).map((_, i) => i % 256);
  const expected = createHash('sha256');
  for (let left = size; left > 0; left -= pattern.length) expected.update(pattern.subarray(0, Math.min(left, pattern.length)));
  return expected.digest('hex');
}
