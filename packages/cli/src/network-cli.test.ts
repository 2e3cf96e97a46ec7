import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../daemon/src/testing/run-cli.js';
import { startTestDaemon, type TestDaemon } from '../../daemon/src/testing/test-daemon.js';
import { type EchoServer, startTestNetwork, type TestNetwork, testUpstreamRange } from '../../daemon/src/testing/test-network.js';

// The network commands end to end, against this test's own DNS and HTTPS
// servers (on addresses it adds to the host's loopback).
const address = '198.18.99.30';
let net: TestNetwork;
let daemon: TestDaemon;
let api: EchoServer;

beforeAll(async () => {
  net = await startTestNetwork([address]);
  net.setName('api.example.test', address);
  net.setName('pkgs.example.test', address);
  api = await net.serve({ address, port: 443, tls: true, names: ['api.example.test', 'pkgs.example.test'] });
  await net.serve({ address, port: 80 });
  daemon = await startTestDaemon(['--dns-server', net.dnsServer, '--egress-allow-range', testUpstreamRange], { NODE_EXTRA_CA_CERTS: net.caFile });
});

afterAll(async () => {
  await paddock(['kill', '--all']);
  await daemon?.stop();
  await net?.close();
});

const paddock = (args: string[], stdin?: string) => runCli(args, { env: daemon.env, stdin });

describe('paddock net and paddock secret', () => {
  it('run --net none: the network is off and the failure is immediate and plain', async () => {
    const r = await paddock(['run', '--net', 'none', '--', 'curl', '-sS', '--max-time', '20', 'http://api.example.test/']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('Could not resolve host');
  });

  it('create --allow-domain, then net allow / deny / show change and report the rules of a running sandbox', async () => {
    const created = await paddock(['create', '--allow-domain', 'pkgs.example.test']);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    const fetch = (url: string) => paddock(['exec', id, '--', 'curl', '-sS', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}', url]);
    expect((await fetch('http://pkgs.example.test/simple/')).stdout).toBe('200');
    expect((await fetch('http://api.example.test/')).stdout).toBe('403');

    const allowed = await paddock(['net', 'allow', id, 'api.example.test']);
    expect(allowed).toMatchObject({ code: 0, stderr: '' });
    expect(allowed.stdout).toContain('allow:   pkgs.example.test, api.example.test');
    expect((await fetch('http://api.example.test/')).stdout).toBe('200');

    const denied = await paddock(['net', 'deny', id, 'pkgs.example.test']);
    expect(denied.stdout).toContain('deny:    pkgs.example.test');
    expect((await fetch('http://pkgs.example.test/simple/')).stdout).toBe('403');

    const shown = await paddock(['net', 'show', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/http\s+api\.example\.test\s+80\s+allow\s+198\.18\.99\.30/);
    expect(shown.stdout).toMatch(/http\s+pkgs\.example\.test\s+80\s+deny\s+-.*denied by rule pkgs\.example\.test/);
    const json = JSON.parse((await paddock(['net', 'show', id, '--json'])).stdout);
    expect(json).toMatchObject({ mode: 'proxy', allow: ['api.example.test'], deny: ['pkgs.example.test'] });

    const bad = await paddock(['net', 'allow', id, 'not a host!']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^paddock: [^\n]+\n$/);
  });

  it('secret set reads the value from stdin; a sandbox holding it sees a placeholder, the bound host gets the value', async () => {
    const value = 'sk-cli-test-value-0123456789';
    const set = await paddock(['secret', 'set', 'API_KEY', '--host', 'api.example.test'], `${value}\n`);
    expect(set).toMatchObject({ code: 0, stdout: 'API_KEY → api.example.test\n' });
    const listed = await paddock(['secret', 'ls']);
    expect(listed.stdout).toContain('API_KEY');
    expect(listed.stdout).not.toContain(value);

    const before = api.seen.length;
    const run = await paddock([
      'run',
      '--secret',
      'API_KEY',
      '--allow-domain',
      'api.example.test',
      '--',
      'sh',
      '-c',
      'echo "inside: $API_KEY"; curl -sS --max-time 20 -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $API_KEY" https://api.example.test/v1/chat',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^inside: paddock-placeholder-[0-9a-f]{32}\n200$/);
    expect(api.seen.slice(before).map((r) => r.headers.authorization)).toEqual([`Bearer ${value}`]);

    const missing = await paddock(['run', '--secret', 'NO_SUCH_SECRET', '--', 'true']);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain('no secret named NO_SUCH_SECRET');
    expect((await paddock(['secret', 'rm', 'API_KEY'])).code).toBe(0);
    expect((await paddock(['secret', 'ls', '--json'])).stdout.trim()).toBe('[]');
  });

  it('H13: names a sandbox sends (a TLS server name, a DNS question) cannot put escape sequences on the terminal of whoever reads paddock net show', async () => {
    const created = await paddock(['create', '--allow-domain', 'api.example.test']);
    const id = created.stdout.trim();
    // A hello for a placeholder name, its bytes then swapped for a name with ESC and BEL in it.
    const program = [
      'import socket, ssl, struct',
      'evil = b"\\x1b]0;owned\\x07\\x1b[2J.example.test"',
      'ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE',
      'inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()',
      'obj = ctx.wrap_bio(inc, out, server_hostname="a" * (len(evil) - 13) + ".example.test")',
      'try: obj.do_handshake()',
      'except ssl.SSLWantReadError: pass',
      'hello = out.read().replace(b"a" * (len(evil) - 13) + b".example.test", evil)',
      's = socket.create_connection(("127.0.0.1", 3128), timeout=20)',
      's.sendall(b"CONNECT api.example.test:443 HTTP/1.1\\r\\nHost: api.example.test:443\\r\\n\\r\\n")',
      's.recv(4096); s.sendall(hello)',
      'try: s.recv(4096)',
      'except OSError: pass',
      `s = socket.create_connection(("${address}", 443), timeout=20); s.sendall(hello)`,
      'try: s.recv(4096)',
      'except OSError: pass',
      'resolver = [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")][0]',
      'q = struct.pack(">HHHHHH", 7, 0x100, 1, 0, 0, 0) + b"".join(bytes([len(p)]) + p for p in evil.split(b".")) + b"\\0" + struct.pack(">HH", 1, 1)',
      'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5); u.sendto(q, (resolver, 53))',
      'try: u.recv(4096)',
      'except OSError: pass',
      'print("sent")',
    ].join('\n');
    const sent = await paddock(['exec', id, '--', 'python3', '-c', program]);
    expect(sent.stdout).toBe('sent\n');
    const shown = await paddock(['net', 'show', id]);
    expect(shown.code).toBe(0);
    const controls = [...shown.stdout].filter((ch) => (ch.charCodeAt(0) < 0x20 && ch !== '\n') || ch.charCodeAt(0) === 0x7f);
    expect(controls).toEqual([]);
    // All three were recorded, shown escaped.
    expect(shown.stdout.split('\n').filter((line) => line.includes('\\u001b]0;owned\\u0007')).length).toBeGreaterThanOrEqual(3);
  });
});
