import { createServer } from 'node:net';
import { connect } from 'node:tls';
import { parseHostRule } from '@paddock/core';
import { describe, expect, it } from 'vitest';
import { AddressGuard } from './address-guard.js';
import { HostRules } from './host-rules.js';
import { readClientHello } from './tls-client-hello.js';
import { maxFirstLineBytes, readTunnelOpening } from './tunnel-opening.js';

describe('host rules', () => {
  it('match exact names and *.suffix wildcards (not the bare suffix), with optional ports; deny wins', () => {
    const rules = new HostRules(['pypi.org', '*.pythonhosted.org', 'api.internal.test:8443', '10.0.0.5'], ['evil.pythonhosted.org']);
    expect(rules.decide('PyPI.org.', 443)).toEqual({ allowed: true });
    expect(rules.decide('files.pythonhosted.org', 443)).toEqual({ allowed: true });
    expect(rules.decide('pythonhosted.org', 443).allowed).toBe(false);
    expect(rules.decide('evil.pythonhosted.org', 443)).toEqual({ allowed: false, reason: 'denied by rule evil.pythonhosted.org' });
    expect(rules.decide('api.internal.test', 8443).allowed).toBe(true);
    expect(rules.decide('api.internal.test', 443).allowed).toBe(false);
    expect(rules.decide('10.0.0.5', 80).allowed).toBe(true);
    expect(rules.decide('pypi.org.evil.com', 443).allowed).toBe(false);
    expect(rules.decide('xpypi.org', 443).allowed).toBe(false);
    expect(rules.allowsName('api.internal.test')).toBe(true);
    expect(rules.allowsName('evil.pythonhosted.org')).toBe(false);
  });

  it('refuses malformed rules', () => {
    for (const bad of ['', 'a b', 'http://x.com', '*', '*.', 'x..com', 'x.com:0', 'x.com:99999', '-x.com', 'x.com/path', '1.2.3']) {
      expect(parseHostRule(bad), bad).toBeUndefined();
    }
    expect(parseHostRule('[2001:db8::1]:443')).toEqual({ host: '2001:db8::1', port: 443 });
  });
});

describe('address guard', () => {
  it('refuses private, loopback, link-local, metadata, CGNAT and embedded-IPv4 forms unless the operator opens a range', () => {
    const guard = new AddressGuard(['10.9.0.0/16']);
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::a9fe:a9fe',
    ]) {
      expect(guard.refusal(address), address).toBeDefined();
    }
    for (const address of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '10.9.3.4']) expect(guard.refusal(address), address).toBeUndefined();
    expect(() => new AddressGuard(['10.0.0.0/33'])).toThrow();
  });
});

describe('TLS hello reading', () => {
  it('reads the server name of a real ClientHello, and tells TLS without SNI and non-TLS apart', async () => {
    const server = createServer();
    const hellos: Buffer[] = [];
    server.on('connection', (s) =>
      s.once('data', (d: Buffer) => {
        hellos.push(d);
        s.destroy();
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    for (const servername of ['files.example.test', undefined]) {
      await new Promise<void>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port, servername: servername ?? '', rejectUnauthorized: false });
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
      });
    }
    server.close();
    expect(readClientHello(hellos[0] as Buffer)).toEqual({ kind: 'hello', serverName: 'files.example.test' });
    expect(readClientHello(hellos[1] as Buffer)).toEqual({ kind: 'hello', serverName: undefined });
    expect(readClientHello((hellos[0] as Buffer).subarray(0, 40))).toEqual({ kind: 'incomplete' });
    expect(readClientHello(Buffer.from('GET / HTTP/1.1\r\n'))).toEqual({ kind: 'not-tls' });
  });
});

describe('what a tunnel carries', () => {
  it('H10: plain HTTP is told from its whole first line, at every split, in any case, after blank lines; other protocols still pass', () => {
    const request = Buffer.from('\r\n get /x?a=1 b HTTP/1.1\r\nHost: other.test\r\n\r\n');
    const lineEnd = request.indexOf('\n', 3);
    for (let cut = 1; cut <= lineEnd; cut += 1) expect(readTunnelOpening(request.subarray(0, cut))).toEqual({ kind: 'incomplete' });
    expect(readTunnelOpening(request.subarray(0, lineEnd + 1))).toEqual({ kind: 'http' });
    expect(readTunnelOpening(Buffer.from('GET http://other.test/ http/1.0\n'))).toEqual({ kind: 'http' });
    expect(readTunnelOpening(Buffer.alloc(maxFirstLineBytes + 1, 'G'))).toEqual({ kind: 'too-long' });
    expect(readTunnelOpening(Buffer.alloc(maxFirstLineBytes + 1, '\n'))).toEqual({ kind: 'too-long' });
    // SSH's banner, a PostgreSQL startup message, binary after a word: not HTTP, decided as soon as that shows.
    expect(readTunnelOpening(Buffer.from('SSH-2.0-OpenSSH_9.6 Debian\r\n'))).toEqual({ kind: 'other' });
    expect(readTunnelOpening(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]))).toEqual({ kind: 'other' });
    expect(readTunnelOpening(Buffer.from('SSH-2.0\u0000'))).toEqual({ kind: 'other' });
  });
});
