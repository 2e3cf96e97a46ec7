import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Sandbox, Secrets } from '@paddock/sdk';
import { placesHolding } from '@paddock/sdk/probes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { type EchoServer, startTestNetwork, type TestNetwork, testUpstreamRange } from '../testing/test-network.js';
import { probeRun, probeTiers, py, sh } from './probe-kit.js';

// Sections C (network) and E (secrets) of docs/security-probes.md, attacked from
// inside sandboxes on every tier. Upstreams are this test's own servers on
// addresses it adds to the host's loopback; names come from its own DNS server.
const upstream = { allowed: '198.18.99.10', other: '198.18.99.11', secret: '198.18.99.12' };
const malformedUpstream = '198.18.99.13';
let net: TestNetwork;
let daemon: TestDaemon;
const servers: Record<string, EchoServer> = {};
let testCa: string;

beforeAll(async () => {
  net = await startTestNetwork([...Object.values(upstream), malformedUpstream]);
  net.setName('malformed.test', malformedUpstream);
  net.setName('allowed.test', upstream.allowed);
  net.setName('www.allowed.test', upstream.allowed);
  net.setName('other.test', upstream.other);
  net.setName('secret.test', upstream.secret);
  net.setName('private.test', '127.0.0.1');
  net.setName('metadata.test', '169.254.169.254');
  net.setName('internal.test', '10.1.2.3');
  for (const [name, address] of Object.entries(upstream)) {
    servers[`${name}-http`] = await net.serve({ address, port: 80 });
    servers[`${name}-https`] = await net.serve({ address, port: 443, tls: true, names: [`${name}.test`, `www.${name}.test`] });
  }
  testCa = readFileSync(net.caFile, 'utf8');
  daemon = await startTestDaemon(['--dns-server', net.dnsServer, '--egress-allow-range', testUpstreamRange], { NODE_EXTRA_CA_CERTS: net.caFile });
});

afterAll(async () => {
  await daemon?.stop();
  await net?.close();
});

const curl = (sbx: Sandbox, args: string) => sh(sbx, `curl -sS --max-time 20 --cacert /tmp/test-ca.pem ${args}`);

async function sandbox(tier: (typeof probeTiers)[number], options: Parameters<typeof Sandbox.create>[0] = {}): Promise<Sandbox> {
  const sbx = await Sandbox.create({ ...daemon.conn, tier, ...options });
  await sbx.files.write('/tmp/test-ca.pem', testCa);
  return sbx;
}

describe.each(probeTiers)('egress on the %s tier', (tier) => {
  it('C1: a sandbox made with network none has no network at all: names and connects fail at once, not by timeout', async () => {
    const sbx = await sandbox(tier, { network: { mode: 'none' } });
    try {
      const byName = await curl(sbx, 'http://allowed.test/');
      expect(byName.exitCode).toBe(6); // could not resolve host (28 would be a timeout)
      const byAddress = await py(sbx, [
        'import socket',
        'try:',
        `  socket.create_connection(("${upstream.allowed}", 80), timeout=20); print("CONNECTED")`,
        'except OSError as e: print(type(e).__name__, e.errno)',
      ]);
      expect(byAddress.stdout).not.toContain('CONNECTED');
      expect(byAddress.stdout).not.toContain('timeout');
      expect(await sh(sbx, 'echo "$HTTP_PROXY"')).toMatchObject({ stdout: '\n' });
      // Nothing to change at run time: the API says why.
      await expect(sbx.network.update({ allow: ['allowed.test'] })).rejects.toMatchObject({ code: 'network_disabled' });
    } finally {
      await sbx.kill();
    }
  });

  it('C1: by default (no host allowed) every name and every request is refused with a reason', async () => {
    const sbx = await sandbox(tier);
    try {
      const viaProxy = await curl(sbx, 'http://allowed.test/');
      expect(viaProxy.stdout).toContain("not in the sandbox's allowlist");
      const tunnel = await curl(sbx, 'https://allowed.test/');
      expect(tunnel.exitCode).toBe(56); // CONNECT refused (403), at once
      const lookup = await sh(sbx, 'getent hosts allowed.test');
      expect(lookup.exitCode).not.toBe(0);
      const refused = (await sbx.network.connections()).filter((c) => c.decision === 'deny');
      expect(refused.map((c) => c.host)).toContain('allowed.test');
    } finally {
      await sbx.kill();
    }
  });

  it('C2: an allowed domain is reachable (HTTP through the proxy and HTTPS through CONNECT); other domains are refused by name', async () => {
    const sbx = await sandbox(tier, { network: { allow: ['allowed.test', '*.allowed.test'] } });
    const otherBefore = servers['other-http']?.seen.length;
    try {
      const plain = await curl(sbx, 'http://allowed.test/hello?x=1');
      expect(JSON.parse(plain.stdout)).toMatchObject({ url: '/hello?x=1', host: 'allowed.test' });
      const tls = await curl(sbx, 'https://www.allowed.test/secure');
      expect(JSON.parse(tls.stdout)).toMatchObject({ url: '/secure', host: 'www.allowed.test' });
      const post = await curl(sbx, `-X POST --data-binary @/etc/hostname http://allowed.test/upload`);
      expect(JSON.parse(post.stdout).body).toContain('sb-');
      const other = await curl(sbx, 'http://other.test/');
      expect(other.stdout).toContain("other.test:80 is not in the sandbox's allowlist");
      const otherTls = await curl(sbx, 'https://other.test/');
      expect(otherTls.exitCode).toBe(56);
      expect(servers['other-http']?.seen.length).toBe(otherBefore);
      const resolved = await sh(sbx, 'getent hosts allowed.test');
      expect(resolved.stdout).toContain(upstream.allowed);
      const connections = await sbx.network.connections();
      const allowed = connections.find((c) => c.decision === 'allow' && c.host === 'www.allowed.test');
      expect(allowed).toMatchObject({ via: 'connect', port: 443, address: upstream.allowed });
      expect(allowed?.bytesIn).toBeGreaterThan(0);
    } finally {
      await sbx.kill();
    }
  });

  it('a 64 MB HTTPS download through a CONNECT tunnel (passed through, moved by the splice helper) arrives whole, its bytes recorded', async () => {
    const sbx = await sandbox(tier, { network: { allow: ['allowed.test'] } });
    const size = 64 * 1024 * 1024;
    try {
      const got = await curl(sbx, `-o /tmp/big https://allowed.test/bytes/${size} && sha256sum /tmp/big && rm /tmp/big`);
      expect(got.stdout.split(' ')[0]).toBe(createHash('sha256').update(Buffer.alloc(size, 97)).digest('hex'));
      const connections = await sbx.network.connections();
      const tunnel = connections.find((c) => c.decision === 'allow' && c.host === 'allowed.test' && c.port === 443);
      expect(tunnel?.via).toBe('connect');
      expect(tunnel?.bytesIn).toBeGreaterThan(size);
    } finally {
      await sbx.kill();
    }
  });

  it('C3: IP literals outside the allowlist are refused, through the proxy and dialled directly', async () => {
    const sbx = await sandbox(tier, { network: { allow: ['allowed.test'] } });
    try {
      const literal = await curl(sbx, `http://${upstream.allowed}/`);
      expect(literal.stdout).toContain(`${upstream.allowed}:80 is not in the sandbox's allowlist`);
      const tunnel = await curl(sbx, `-k https://${upstream.allowed}/`);
      expect(tunnel.exitCode).toBe(56);
      // Without the proxy variables: the connection never reaches the upstream.
      const direct = await sh(sbx, `curl -sS --max-time 20 --noproxy '*' -k https://${upstream.allowed}/; echo " exit=$?"`);
      expect(direct.stdout).not.toContain('"url"');
      const raw = await py(sbx, [
        'import socket',
        'for port in (22, 8080, 5432):',
        '  try:',
        `    s = socket.create_connection(("${upstream.allowed}", port), timeout=20); s.sendall(b"x"); print("SENT", port)`,
        '  except OSError as e: print("refused", port)',
      ]);
      expect(raw.stdout).not.toContain('SENT');
      expect(servers['allowed-https']?.seen.every((r) => r.host !== upstream.allowed)).toBe(true);
    } finally {
      await sbx.kill();
    }
  });

  it('C4: an allowed name resolving to a private, loopback, link-local or metadata address is refused', async () => {
    const sbx = await sandbox(tier, { network: { allow: ['private.test', 'metadata.test', 'internal.test'] } });
    try {
      const loop = await curl(sbx, 'http://private.test/');
      expect(loop.stdout).toContain('127.0.0.1 is a loopback address');
      const metadata = await curl(sbx, 'http://metadata.test/latest/meta-data/');
      expect(metadata.stdout).toContain('169.254.169.254 is a link-local (cloud metadata) address');
      const internal = await curl(sbx, 'https://internal.test/');
      expect(internal.exitCode).toBe(56);
      // DNS inside does not hand such addresses out either.
      const lookup = await sh(sbx, 'getent hosts private.test metadata.test internal.test');
      expect(lookup.stdout).toBe('');
      const reasons = (await sbx.network.connections()).map((c) => c.reason ?? '');
      expect(reasons.some((r) => r.includes('10.1.2.3 is a private address'))).toBe(true);
    } finally {
      await sbx.kill();
    }
  });

  it("C5: the host's own services (the daemon's API, anything on its loopback) are out of reach", async () => {
    const sbx = await sandbox(tier, { network: { allow: ['private.test'] } });
    const apiPort = new URL(daemon.url).port;
    try {
      // The sandbox's 127.0.0.1 is its own; the host's is not there.
      const own = await sh(sbx, `curl -sS --max-time 20 --noproxy '*' http://127.0.0.1:${apiPort}/v1/health; echo " exit=$?"`);
      expect(own.stdout).toContain('exit=7');
      const viaProxy = await curl(sbx, `--noproxy '' -x http://127.0.0.1:3128 http://127.0.0.1:${apiPort}/v1/health`);
      expect(viaProxy.stdout).toContain('is not in the sandbox');
      const viaName = await curl(sbx, `http://private.test:${apiPort}/v1/health`);
      expect(viaName.stdout).toContain('loopback address');
      // Forged relay headers on the egress socket itself: the daemon still decides by name and address.
      const forged = await py(sbx, [
        'import socket',
        'out = []',
        `for header, request in ((b"PADDOCK/1 http 127.0.0.1:${apiPort}\\n", b"GET /v1/health HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n"), (b"PADDOCK/1 http ${upstream.allowed}:80\\n", b"GET / HTTP/1.1\\r\\nHost: private.test:${apiPort}\\r\\n\\r\\n")):`,
        '  s = socket.socket(socket.AF_UNIX); s.connect("/.paddock/run/egress.sock"); s.sendall(header + request)',
        '  out.append(s.recv(4096).decode(errors="replace").split("\\r\\n")[0])',
        'print(out)',
      ]);
      expect(forged.stdout).toContain('403');
      expect(forged.stdout).not.toContain('200');
    } finally {
      await sbx.kill();
    }
  });

  it('C6: a runtime change to the allowlist takes effect for new connections without a restart', async () => {
    const sbx = await sandbox(tier);
    try {
      const marker = await sh(sbx, 'sleep 600 >/dev/null 2>&1 & echo $!');
      expect((await curl(sbx, 'http://other.test/')).stdout).toContain('not in the sandbox');
      const allowed = await sbx.network.update({ allow: ['other.test'] });
      expect(allowed.allow).toEqual(['other.test']);
      expect(JSON.parse((await curl(sbx, 'http://other.test/now')).stdout)).toMatchObject({ url: '/now' });
      const denied = await sbx.network.update({ deny: ['other.test'] });
      expect(denied).toMatchObject({ allow: [], deny: ['other.test'] });
      expect((await curl(sbx, 'http://other.test/again')).stdout).toContain('denied by rule other.test');
      // Same sandbox, same processes: nothing restarted.
      expect((await sh(sbx, `kill -0 ${marker.stdout.trim()} && echo alive`)).stdout).toBe('alive\n');
    } finally {
      await sbx.kill();
    }
  });

  it('C7: raw sockets and ICMP are unavailable; UDP leaves only as DNS answered by the policy', async () => {
    const sbx = await sandbox(tier, { network: { allow: ['allowed.test'] } });
    const udp = createSocket('udp4');
    const received: Buffer[] = [];
    udp.on('message', (m) => received.push(m));
    await new Promise<void>((resolve) => udp.bind(5353, upstream.allowed, () => resolve()));
    try {
      const probe = await py(sbx, [
        'import socket',
        'echo = b"\\x08\\x00\\xf7\\xff\\x00\\x00\\x00\\x00"',
        'for family, kind, proto in ((socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP), (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP), (socket.AF_PACKET, socket.SOCK_RAW, 0)):',
        '  try:',
        '    s = socket.socket(family, kind, proto)',
        '    if family == socket.AF_PACKET: print("OPENED packet")',
        `    else: s.sendto(echo, ("${upstream.allowed}", 0)); print("SENT icmp", kind)`,
        '  except OSError as e: print("refused", e.errno)',
        'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        'try:',
        `  u.sendto(b"exfiltrate", ("${upstream.allowed}", 5353)); print("udp sent")`,
        'except OSError as e: print("udp refused", e.errno)',
      ]);
      // gVisor opens ICMP datagram (ping) sockets in its own stack, but nothing leaves it.
      expect(probe.stdout).not.toMatch(/OPENED|SENT/);
      const ping = await sh(sbx, `ping -c 1 -W 2 ${upstream.allowed} 2>&1; echo "exit=$?"`);
      expect(ping.stdout).not.toContain('exit=0');
      // DNS to any server ends at the policy's answer, never at that server.
      const dns = await py(sbx, [
        'import socket, struct',
        'q = struct.pack(">HHHHHH", 7, 0x100, 1, 0, 0, 0) + b"".join(bytes([len(p)]) + p.encode() for p in "allowed.test".split(".")) + b"\\0" + struct.pack(">HH", 1, 1)',
        'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)',
        'try:',
        `  u.sendto(q, ("${upstream.allowed}", 53)); print("answer", len(u.recv(512)))`,
        'except OSError as e: print("no answer", e)',
      ]);
      if (tier === 'container') expect(dns.stdout).toMatch(/^answer \d+/);
      // A datagram the host sends now is read after anything the sandbox sent before it.
      const marker = createSocket('udp4');
      marker.send('host-marker', 5353, upstream.allowed, () => marker.close());
      await expect.poll(() => received.map(String).includes('host-marker'), { timeout: 10_000, interval: 50 }).toBe(true);
      expect(received.map(String)).toEqual(['host-marker']);
    } finally {
      udp.close();
      await sbx.kill();
    }
  });

  it('E1 + E2: a secret never enters the sandbox, its output, the logs, the audit log or the API; only its hosts receive it', async () => {
    const name = `TEST_TOKEN_${tier.toUpperCase()}`;
    const value = `sk-test-${randomBytes(18).toString('hex')}`;
    await Secrets.set(name, value, { ...daemon.conn, hosts: ['secret.test'] });
    const sbx = await sandbox(tier, { secrets: [name], network: { allow: ['secret.test', 'allowed.test', 'other.test'] } });
    try {
      const placeholder = (await sh(sbx, `printenv ${name}`)).stdout.trim();
      expect(placeholder).toMatch(/^paddock-placeholder-[0-9a-f]{32}$/);
      // Bound host over HTTPS: the proxy opens it (the sandbox trusts its own CA) and the upstream gets the value.
      const before = servers['secret-https']?.seen.length ?? 0;
      const call = await sh(sbx, `curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $${name}" https://secret.test/v1/models`);
      expect(call.stdout).toBe('200');
      const seen = servers['secret-https']?.seen.slice(before) ?? [];
      expect(seen.map((r) => r.headers.authorization)).toEqual([`Bearer ${value}`]);
      // Python's ssl and Node's TLS trust it too (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS).
      const fromPython = await py(sbx, [
        'import os, urllib.request',
        `req = urllib.request.Request("https://secret.test/py", headers={"X-Key": os.environ["${name}"]})`,
        'print(urllib.request.urlopen(req, timeout=20).status)',
      ]);
      expect(fromPython.stdout.trim()).toBe('200');
      expect(servers['secret-https']?.seen.at(-1)?.headers['x-key']).toBe(value);
      // Anywhere else only the placeholder leaves: another host over HTTPS and HTTP, and the bound host over plain HTTP.
      await sh(sbx, `curl -s -o /dev/null --cacert /tmp/test-ca.pem -H "Authorization: Bearer $${name}" https://allowed.test/x`);
      await sh(sbx, `curl -s -o /dev/null -H "Authorization: Bearer $${name}" http://other.test/x http://secret.test/x`);
      const elsewhere = [servers['allowed-https'], servers['other-http'], servers['secret-http']].flatMap((s) => s?.seen ?? []);
      expect(elsewhere.map((r) => r.headers.authorization)).toContain(`Bearer ${placeholder}`);
      expect(JSON.stringify(elsewhere)).not.toContain(value);
      // E1: nowhere inside the sandbox, as root or user.
      expect(await placesHolding(sbx, value)).toBe('[]');
      // Nor in the daemon's log, the audit log, or any API answer.
      const answers = await Promise.all(
        ['/v1/secrets', `/v1/sandboxes/${sbx.id}`, `/v1/sandboxes/${sbx.id}/network`, '/v1/audit?limit=1000'].map(async (p) => (await daemon.api(p)).text()),
      );
      for (const text of [...answers, await daemon.logWritten(), readFileSync(`${daemon.stateDir}/paddock.db`).toString('latin1')])
        expect(text).not.toContain(value);
      expect(answers[0]).toContain(name);
    } finally {
      await sbx.kill();
    }
  });
});

// The catalogue's egress and secrets probes as `paddock check --probes` runs them
// (@paddock/sdk/probes): no upstream of this test's, only what any deployment has.
describe.each(probeTiers)('the live egress and secrets probes on the %s tier', (tier) => {
  const probes = probeRun(() => daemon.conn, tier);
  afterAll(() => probes.close());

  it.each([
    ['C1', 'network none: no name, no address, no allowlist to change'],
    ['C1.2', 'nothing allowed: HTTP refused with a reason, CONNECT refused, no DNS answer'],
    ['C3', 'IP literals dialled directly'],
    ['C4', 'loopback, private and metadata addresses named in the allowlist'],
    ['C5', "the daemon's port, on the sandbox's loopback and through the proxy"],
    ['C7', 'raw, packet and ICMP sockets'],
    ['E1', "a secret's value in the environment, /proc, files or the API"],
    ['E6', 'secret values with CR, LF or NUL'],
  ])('%s: %s (the live probe)', async (id) => {
    await probes.expectHeld(id);
  });
});

describe('egress on the container tier, redirected', () => {
  it('C8: plain TCP to 80/443 is redirected to the proxy, which reads the Host header or TLS server name', async () => {
    const sbx = await sandbox('container', { network: { allow: ['allowed.test'] } });
    try {
      const noProxy = 'env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy curl -sS --max-time 20 --cacert /tmp/test-ca.pem';
      const plain = await sh(sbx, `${noProxy} http://allowed.test/direct`);
      expect(JSON.parse(plain.stdout)).toMatchObject({ url: '/direct' });
      const tls = await sh(sbx, `${noProxy} https://allowed.test/direct-tls`);
      expect(JSON.parse(tls.stdout)).toMatchObject({ url: '/direct-tls' });
      // Dial an allowed address but name another host: refused (the name must resolve to the address dialled).
      const fronted = await sh(sbx, `${noProxy} --resolve other.test:443:${upstream.allowed} https://other.test/; echo " exit=$?"`);
      expect(fronted.stdout).not.toContain('"url"');
      const mismatch = await sh(sbx, `${noProxy} -H 'Host: other.test' http://allowed.test/; echo " exit=$?"`);
      expect(mismatch.stdout).toContain('not in the sandbox');
      const via = (await sbx.network.connections()).filter((c) => c.decision === 'allow').map((c) => c.via);
      expect(via).toEqual(expect.arrayContaining(['http', 'tls']));
    } finally {
      await sbx.kill();
    }
  });

  it('C16: sandboxes made in a row (their namespaces made ahead, as spares) each have a network namespace of their own, not the host’s, with the redirect in it', async () => {
    const made = await Promise.all([0, 1, 2].map(() => sandbox('container', { network: { allow: ['allowed.test'] } })));
    try {
      const namespaces: string[] = [];
      for (const sbx of made) {
        namespaces.push((await sh(sbx, 'readlink /proc/self/ns/net')).stdout.trim());
        const direct = await sh(sbx, 'env -u HTTP_PROXY -u http_proxy curl -sS --max-time 20 http://allowed.test/spare');
        expect(JSON.parse(direct.stdout)).toMatchObject({ url: '/spare' });
        const other = await sh(sbx, 'env -u HTTP_PROXY -u http_proxy curl -sS --max-time 20 http://other.test/; echo " exit=$?"');
        expect(other.stdout).not.toContain('"url"');
      }
      expect(namespaces.every((ns) => /^net:\[\d+\]$/.test(ns))).toBe(true);
      expect(new Set(namespaces).size).toBe(3);
      expect(namespaces).not.toContain(`net:[${statSync('/proc/self/ns/net').ino}]`);
    } finally {
      await Promise.all(made.map((sbx) => sbx.kill()));
    }
  });

  it('C9: a CONNECT tunnel refuses a TLS hello naming another server than the tunnel’s (domain fronting)', async () => {
    const sbx = await sandbox('container', { network: { allow: ['allowed.test'] } });
    try {
      const fronted = await sh(sbx, `curl -sS --max-time 20 -k --connect-to other.test:443:allowed.test:443 https://other.test/; echo " exit=$?"`);
      expect(fronted.stdout).not.toContain('"url"');
      const reasons = (await sbx.network.connections()).map((c) => c.reason ?? '');
      expect(reasons.some((r) => r.includes('TLS names other.test'))).toBe(true);
    } finally {
      await sbx.kill();
    }
  });
});

describe('egress across a daemon restart', () => {
  it.each(probeTiers)('an adopted sandbox keeps its rules, its relay and its secrets’ CA (%s tier)', async (tier) => {
    const name = `RESTART_TOKEN_${tier.toUpperCase()}`;
    const value = `sk-restart-${randomBytes(12).toString('hex')}`;
    await Secrets.set(name, value, { ...daemon.conn, hosts: ['secret.test'] });
    const sbx = await sandbox(tier, { secrets: [name], network: { allow: ['secret.test', 'allowed.test'] } });
    try {
      await daemon.crash();
      await daemon.restart();
      const again = await Sandbox.connect(sbx.id, daemon.conn);
      expect(JSON.parse((await curl(again, 'http://allowed.test/after-restart')).stdout)).toMatchObject({ url: '/after-restart' });
      const before = servers['secret-https']?.seen.length ?? 0;
      const call = await sh(again, `curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -H "X-Key: $${name}" https://secret.test/after`);
      expect(call.stdout).toBe('200');
      expect(servers['secret-https']?.seen.slice(before).map((r) => r.headers['x-key'])).toEqual([value]);
      expect((await again.network.get()).allow).toEqual(['secret.test', 'allowed.test']);
    } finally {
      await Sandbox.connect(sbx.id, daemon.conn)
        .then((s) => s.kill())
        .catch(() => {});
    }
  });
});

describe('egress and the rest of the platform', () => {
  it('C15: every connection passes the policy: a Cedar forbid on network.connect refuses an allowed host', async () => {
    const file = `${daemon.stateDir}/policies/50-no-other.cedar`;
    writeFileSync(
      file,
      '@id("no-other-test")\n@reason("other.test is off limits")\nforbid (principal, action == Paddock::Action::"network.connect", resource) when { context has host && context.host == "other.test" };\n',
    );
    const sbx = await sandbox('container', { network: { allow: ['other.test', 'allowed.test'] } });
    try {
      // Refused once the daemon has read the new policy file.
      await expect
        .poll(async () => (await curl(sbx, 'http://other.test/')).stdout, { timeout: 10_000, interval: 100 })
        .toContain('policy: other.test is off limits');
      expect(JSON.parse((await curl(sbx, 'http://allowed.test/fine')).stdout)).toMatchObject({ url: '/fine' });
      const audit = (await (await daemon.api('/v1/audit?limit=1000')).json()) as {
        records: Array<{ action: string; decision: string; details: { host?: string } }>;
      };
      expect(audit.records.some((e) => e.action === 'network.connect' && e.decision === 'deny' && e.details.host === 'other.test')).toBe(true);
      expect(audit.records.some((e) => e.action === 'network.connect' && e.decision === 'allow' && e.details.host === 'allowed.test')).toBe(true);
    } finally {
      rmSync(file, { force: true });
      await sbx.kill();
    }
  });

  it('a sandbox from a warm pool gets the rules of the create that claims it', async () => {
    const pool = (await (
      await daemon.api('/v1/pools', { method: 'POST', body: JSON.stringify({ template: 'base', size: 1 }), headers: { 'content-type': 'application/json' } })
    ).json()) as { id: string };
    try {
      await expect
        .poll(
          async () =>
            ((await (await daemon.api('/v1/pools')).json()) as { pools: Array<{ id: string; ready: number }> }).pools.find((p) => p.id === pool.id)?.ready,
          { timeout: 30_000, interval: 100 },
        )
        .toBeGreaterThan(0);
      const sbx = await sandbox('container', { network: { allow: ['allowed.test'] } });
      try {
        const pools = (await (await daemon.api('/v1/pools')).json()) as { pools: Array<{ id: string; hits: number }> };
        expect(pools.pools.find((p) => p.id === pool.id)?.hits).toBe(1);
        expect(JSON.parse((await curl(sbx, 'http://allowed.test/pooled')).stdout)).toMatchObject({ url: '/pooled' });
        expect((await curl(sbx, 'http://other.test/')).stdout).toContain('not in the sandbox');
      } finally {
        await sbx.kill();
      }
    } finally {
      await daemon.api(`/v1/pools/${pool.id}`, { method: 'DELETE' });
    }
  });
});

describe('attacks on the proxy itself', () => {
  it('C10: a symlink planted where the egress socket goes does not redirect the daemon’s setup of it after a restart', async () => {
    const victim = `/tmp/paddock-egress-victim-${process.pid}`;
    writeFileSync(victim, 'host file');
    chmodSync(victim, 0o600);
    const sbx = await sandbox('container', { network: { allow: ['allowed.test'] } });
    try {
      const planted = await sh(sbx, `rm -f /.paddock/run/egress.sock && ln -s ${victim} /.paddock/run/egress.sock && echo planted`);
      expect(planted.stdout).toBe('planted\n');
      await daemon.crash();
      await daemon.restart();
      expect(statSync(victim).mode & 0o777).toBe(0o600);
      const again = await Sandbox.connect(sbx.id, daemon.conn);
      expect(JSON.parse((await curl(again, 'http://allowed.test/after')).stdout)).toMatchObject({ url: '/after' });
    } finally {
      rmSync(victim, { force: true });
      await Sandbox.connect(sbx.id, daemon.conn)
        .then((s) => s.kill())
        .catch(() => {});
    }
  });

  it('C11: a snapshot whose CA store is a symlink to a host file does not bring that file into a sandbox with secrets', async () => {
    await Secrets.set('STORE_PROBE', 'sk-store-probe', { ...daemon.conn, hosts: ['secret.test'] });
    const source = await sandbox('container');
    const name = `store-probe-${randomBytes(3).toString('hex')}`;
    try {
      await sh(source, `ln -sf ${daemon.stateDir}/token /etc/ssl/certs/ca-certificates.crt`);
      const snap = await daemon.api(`/v1/sandboxes/${source.id}/snapshots`, {
        method: 'POST',
        body: JSON.stringify({ name }),
        headers: { 'content-type': 'application/json' },
      });
      expect(snap.status).toBe(201);
      const sbx = await Sandbox.create({ ...daemon.conn, template: name, secrets: ['STORE_PROBE'], network: { allow: ['secret.test'] } });
      try {
        const store = await sh(sbx, 'cat /etc/ssl/certs/ca-certificates.crt');
        expect(store.stdout).not.toContain(daemon.token);
        expect(store.stdout).toContain('BEGIN CERTIFICATE');
      } finally {
        await sbx.kill();
      }
    } finally {
      await source.kill();
      await daemon.api(`/v1/templates/${name}`, { method: 'DELETE' });
    }
  });

  it('C12: IPv4-mapped IPv6 spellings of loopback and metadata addresses are refused like the addresses themselves', async () => {
    const apiPort = new URL(daemon.url).port;
    const sbx = await sandbox('container');
    try {
      const rules = await sbx.network.update({ allow: ['[0:0:0:0:0:ffff:7f00:1]', '[::ffff:169.254.169.254]'] });
      expect(rules.allow).toEqual(['127.0.0.1', '169.254.169.254']);
      for (const target of [`[0:0:0:0:0:ffff:7f00:1]:${apiPort}`, `[0::ffff:7f00:1]:${apiPort}`, '[::0:ffff:a9fe:a9fe]:80']) {
        const r = await sh(sbx, `curl -sS --max-time 20 -p -x http://127.0.0.1:3128 http://${target}/v1/health; echo " exit=$?"`);
        expect(r.stdout, target).not.toContain('"status"');
        expect(r.stdout, target).toContain('exit=56');
      }
      const reasons = (await sbx.network.connections()).map((c) => c.reason ?? '');
      expect(reasons.some((r) => r.includes('127.0.0.1 is a loopback address'))).toBe(true);
    } finally {
      await sbx.kill();
    }
  });

  it('C13: refuses requests that would be read differently upstream: framing named in Connection, absolute URLs sent straight to a server, HTTP inside CONNECT', async () => {
    const sbx = await sandbox('container', { network: { allow: ['allowed.test', 'other.test'] } });
    const before = servers['allowed-http']?.seen.length ?? 0;
    try {
      const framing = await curl(
        sbx,
        "-X POST -H 'Connection: transfer-encoding' -H 'Transfer-Encoding: chunked' --data-binary 'x' http://allowed.test/smuggle",
      );
      expect(framing.stdout).toContain('the Connection header may not name transfer-encoding');
      const absolute = await sh(sbx, 'env -u HTTP_PROXY -u http_proxy curl -sS --max-time 20 --request-target http://other.test/pwn http://allowed.test/');
      expect(absolute.stdout).toContain('names a path, not a URL');
      const inTunnel = await sh(
        sbx,
        'curl -sS --max-time 20 -p -x http://127.0.0.1:3128 -H \'Host: other.test\' http://allowed.test:80/fronted; echo " exit=$?"',
      );
      expect(inTunnel.stdout).not.toContain('"url"');
      expect(servers['allowed-http']?.seen.slice(before).map((r) => r.url)).toEqual([]);
      const reasons = (await sbx.network.connections()).map((c) => c.reason ?? '');
      expect(reasons.some((r) => r.includes('plain HTTP inside a CONNECT tunnel'))).toBe(true);
    } finally {
      await sbx.kill();
    }
  });

  it('C14: an upstream answering with a malformed status line cannot take the daemon down', async () => {
    const raw = createServer((c) => c.once('data', () => c.end('HTTP/1.1 099 \u0001bad\r\nContent-Length: 0\r\n\r\n')));
    await new Promise<void>((r) => raw.listen(80, malformedUpstream, () => r()));
    const sbx = await sandbox('container', { network: { allow: ['malformed.test'] } });
    try {
      await curl(sbx, 'http://malformed.test/');
      expect((await daemon.api('/v1/health')).status).toBe(200);
      expect((await sh(sbx, 'echo alive')).stdout).toBe('alive\n');
    } finally {
      raw.close();
      await sbx.kill();
    }
  });

  it('E6: secret values are refused when they could not travel in a header', async () => {
    const r = await daemon.api('/v1/secrets/BROKEN', {
      method: 'PUT',
      body: JSON.stringify({ value: 'a\r\nX-Injected: 1', hosts: ['secret.test'] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
  });
});

// Section H (hostile sandbox output): the bytes a sandbox writes into a tunnel
// arrive in whatever pieces it chooses; the proxy's decision may not depend on them.
describe('H. bytes in a tunnel, split where the sandbox likes', () => {
  const tunnelKit = [
    'import socket, ssl, sys, time',
    'def tunnel(port):',
    '    s = socket.create_connection(("127.0.0.1", 3128), timeout=30)',
    '    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)',
    '    s.sendall(b"CONNECT allowed.test:%d HTTP/1.1\\r\\nHost: allowed.test:%d\\r\\n\\r\\n" % (port, port))',
    '    head = b""',
    '    while b"\\r\\n\\r\\n" not in head:',
    '        d = s.recv(1)',
    '        if not d: break',
    '        head += d',
    '    assert head.startswith(b"HTTP/1.1 200"), head',
    '    return s',
    'def direct(address, port):',
    '    s = socket.create_connection((address, port), timeout=30)',
    '    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)',
    '    return s',
    'def answer(s):',
    '    out = b""',
    '    try:',
    '        while True:',
    '            d = s.recv(65536)',
    '            if not d: break',
    '            out += d',
    '    except Exception as e:',
    '        out += b"ERR " + type(e).__name__.encode()',
    '    return out',
    'def send(s, parts):',
    '    try:',
    '        for p in parts:',
    '            s.sendall(p)',
    '            time.sleep(0.02)',
    '    except OSError:',
    '        pass',
    'def hello(name):',
    '    ctx = ssl.create_default_context()',
    '    ctx.check_hostname = False',
    '    ctx.verify_mode = ssl.CERT_NONE',
    '    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()',
    '    obj = ctx.wrap_bio(inc, out, server_hostname=name)',
    '    try: obj.do_handshake()',
    '    except ssl.SSLWantReadError: pass',
    '    return out.read()',
  ];

  it('H10: plain HTTP naming a foreign Host in a CONNECT tunnel is refused however it is split: byte by byte, at every boundary of the request line, after leading CRLFs, in lower case', async () => {
    const sbx = await sandbox('container', { network: { allow: ['allowed.test'] } });
    const before = servers['allowed-http']?.seen.length ?? 0;
    try {
      const run = await py(sbx, [
        ...tunnelKit,
        'def req(tag, method=b"GET"): return method + b" /foreign-" + tag + b" HTTP/1.1\\r\\nHost: other.test\\r\\nConnection: close\\r\\n\\r\\n"',
        'line = len(b"GET /foreign-cut00 HTTP/1.1\\r\\n")',
        'cases = [("bytewise", [bytes([b]) for b in req(b"bytewise")]), ("one-byte", [b"G", req(b"one-byte")[1:]])]',
        'cases += [("crlf-apart", [b"\\r\\n", req(b"crlf-apart")]), ("crlf-joined", [b"\\r\\n\\r\\n" + req(b"crlf-joined")])]',
        'cases += [("lower", [req(b"lower", b"get")]), ("lower-split", [b"g", req(b"lower-split", b"get")[1:]])]',
        'cases += [("cut%02d" % i, [req(b"cut%02d" % i)[:i], req(b"cut%02d" % i)[i:]]) for i in range(1, line)]',
        'for name, parts in cases:',
        '    s = tunnel(80)',
        '    send(s, parts)',
        '    print(name, repr(answer(s)[:120]))',
      ]);
      expect(run.stderr).toBe('');
      const lines = run.stdout.trim().split('\n');
      expect(lines.length).toBeGreaterThan(30);
      for (const line of lines) expect(line).not.toContain('"url"');
      // The foreign host's name never reached the allowed upstream.
      expect(servers['allowed-http']?.seen.slice(before).map((r) => `${r.host} ${r.url}`)).toEqual([]);
      const refused = (await sbx.network.connections()).filter((c) => c.reason?.includes('plain HTTP inside a CONNECT tunnel'));
      expect(refused.length).toBe(lines.length);
    } finally {
      await sbx.kill();
    }
  });

  it('H11: a sender that never finishes its first line in a tunnel is cut at a deadline, refused with a reason, audited', async () => {
    const sbx = await sandbox('container', { network: { allow: ['allowed.test'] } });
    const before = servers['allowed-http']?.seen.length ?? 0;
    try {
      const run = await py(sbx, [...tunnelKit, 's = tunnel(80)', 'send(s, [b"GET /slow HTTP/1.1"])', 'print(repr(answer(s)))']);
      // Cut by the proxy, well before the sandbox's own 30 s timeout.
      expect(run.stdout).not.toContain('TimeoutError');
      expect(servers['allowed-http']?.seen.slice(before)).toEqual([]);
      const reasons = (await sbx.network.connections()).filter((c) => c.decision === 'deny').map((c) => c.reason ?? '');
      expect(reasons.some((r) => r.includes('did not say what it carries'))).toBe(true);
    } finally {
      await sbx.kill();
    }
  });

  it('H12: a TLS hello naming another server, sent byte by byte through CONNECT or redirected, and split plain HTTP redirected from port 80, are decided on the whole', async () => {
    const sbx = await sandbox('container', { network: { allow: ['allowed.test'] } });
    const before = servers['allowed-http']?.seen.length ?? 0;
    try {
      const run = await py(sbx, [
        ...tunnelKit,
        'h = hello("other.test")',
        's = tunnel(443)',
        'send(s, [bytes([b]) for b in h[:64]] + [h[64:]])',
        'print("connect-tls", repr(answer(s)[:60]))',
        `s = direct("${upstream.allowed}", 443)`,
        'send(s, [bytes([b]) for b in h[:64]] + [h[64:]])',
        'print("redirected-tls", repr(answer(s)[:60]))',
        `s = direct("${upstream.allowed}", 80)`,
        'send(s, [b"\\r\\n", b"G", b"ET /redirected HTTP/1.1\\r\\nHost: other.test\\r\\nConnection: close\\r\\n\\r\\n"])',
        'print("redirected-http", repr(answer(s)[:200]))',
      ]);
      expect(run.stderr).toBe('');
      expect(run.stdout).not.toContain('"url"');
      expect(servers['allowed-http']?.seen.slice(before)).toEqual([]);
      const reasons = (await sbx.network.connections()).filter((c) => c.decision === 'deny').map((c) => c.reason ?? '');
      expect(reasons.some((r) => r.includes('TLS names other.test'))).toBe(true);
      expect(reasons.filter((r) => r.includes('other.test')).length).toBeGreaterThanOrEqual(3);
    } finally {
      await sbx.kill();
    }
  });
});
