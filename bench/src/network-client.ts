/**
 * The request-latency client of the NETWORK benchmarks, run as the same
 * script on the host (the direct baselines) and inside a sandbox (through the
 * egress proxy): `node client.js '<json config>'`. It opens one connection
 * (plain, through a CONNECT tunnel, and/or TLS), then sends `warmup + n`
 * sequential keep-alive GETs on it and prints the last n durations, from the
 * first byte written to the last byte of the body read, as JSON `{"ms":[…]}`.
 *
 * A bare HTTP/1.1 loop over a socket rather than node:http: it costs the
 * same few microseconds on either side of the proxy, and it keeps exactly one
 * connection (or one tunnel) for all requests. CommonJS and Node 18 (the base
 * template's nodejs) compatible.
 */
export interface NetworkClientConfig {
  /** Where the socket goes: host:port, or a unix socket path. */
  connect: { host: string; port: number } | { path: string };
  /** Written first (the daemon's egress socket expects `PADDOCK/1 proxy -\n` from the relay). */
  preamble?: string;
  /** host:port to open a CONNECT tunnel to before anything else. */
  tunnel?: string;
  /** TLS over the socket (or the tunnel); without `ca`, Node's default trust (plus NODE_EXTRA_CA_CERTS). */
  tls?: { servername: string; ca?: string };
  /** The request-target: origin-form (/bytes/64) or absolute-form for a proxy (http://host/bytes/64). */
  target: string;
  /** The Host header. */
  host: string;
  /** Adds `Authorization: Bearer $<authEnv>` (a secret's placeholder). */
  authEnv?: string;
  warmup: number;
  n: number;
  /** The body length every answer must have. */
  expectBytes: number;
}

export const networkClientSource = String.raw`'use strict';
const net = require('net');
const tls = require('tls');
const fs = require('fs');
const c = JSON.parse(process.argv[2]);
const now = () => Number(process.hrtime.bigint()) / 1e6;

function waitFor(emitter, event) {
  return new Promise((resolve, reject) => {
    const ok = () => { emitter.off('error', bad); resolve(); };
    const bad = (err) => { emitter.off(event, ok); reject(err); };
    emitter.once(event, ok);
    emitter.once('error', bad);
  });
}

// Reads a response head on a raw socket (the CONNECT answer) and leaves the socket paused after it.
function readHead(sock) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      sock.off('error', reject);
      sock.pause();
      if (buf.length > end + 4) sock.unshift(buf.subarray(end + 4));
      resolve(buf.subarray(0, end).toString('latin1'));
    };
    sock.on('data', onData);
    sock.once('error', reject);
  });
}

async function open() {
  const raw = c.connect.path ? net.connect(c.connect.path) : net.connect(c.connect.port, c.connect.host);
  await waitFor(raw, 'connect');
  raw.setNoDelay(true);
  if (c.preamble) raw.write(c.preamble);
  if (c.tunnel) {
    raw.write('CONNECT ' + c.tunnel + ' HTTP/1.1\r\nHost: ' + c.tunnel + '\r\n\r\n');
    const head = await readHead(raw);
    if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error('CONNECT refused: ' + head.split('\r\n')[0]);
  }
  if (!c.tls) return raw;
  const options = { socket: raw, servername: c.tls.servername, ALPNProtocols: ['http/1.1'] };
  if (c.tls.ca) options.ca = fs.readFileSync(c.tls.ca);
  const secure = tls.connect(options);
  await waitFor(secure, 'secureConnect');
  return secure;
}

function reader(sock) {
  let buf = Buffer.alloc(0);
  let wake = null;
  let failure = null;
  const poke = () => { if (wake) { const w = wake; wake = null; w(); } };
  sock.on('data', (d) => { buf = buf.length ? Buffer.concat([buf, d]) : d; poke(); });
  sock.on('error', (err) => { failure = err; poke(); });
  sock.on('close', () => { failure = failure || new Error('the connection closed'); poke(); });
  sock.resume();
  const more = () => new Promise((resolve, reject) => {
    if (failure) return reject(failure);
    wake = () => (failure ? reject(failure) : resolve());
  });
  return async function response() {
    let end;
    while ((end = buf.indexOf('\r\n\r\n')) < 0) await more();
    const head = buf.subarray(0, end).toString('latin1');
    buf = buf.subarray(end + 4);
    const status = head.slice(0, 12);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!/^HTTP\/1\.1 200/.test(status) || !length) throw new Error('unexpected answer: ' + head.split('\r\n')[0]);
    const size = Number(length[1]);
    while (buf.length < size) await more();
    buf = buf.subarray(size);
    if (size !== c.expectBytes) throw new Error('got ' + size + ' bytes, expected ' + c.expectBytes);
  };
}

async function main() {
  const sock = await open();
  const response = reader(sock);
  let request = 'GET ' + c.target + ' HTTP/1.1\r\nHost: ' + c.host + '\r\n';
  if (c.authEnv) request += 'Authorization: Bearer ' + process.env[c.authEnv] + '\r\n';
  request += '\r\n';
  const ms = [];
  for (let i = 0; i < c.warmup + c.n; i++) {
    const t = now();
    sock.write(request);
    await response();
    if (i >= c.warmup) ms.push(Math.round((now() - t) * 1000) / 1000);
  }
  sock.destroy();
  process.stdout.write(JSON.stringify({ ms }) + '\n');
}

main().catch((err) => {
  process.stderr.write('client: ' + (err && err.stack ? err.stack : String(err)) + '\n');
  process.exit(1);
});
`;
