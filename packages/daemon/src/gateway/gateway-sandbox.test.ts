import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Audit, Gateway, Volumes } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtureTemplate, fixtureCommand, textOf, whenReady } from '../testing/gateway-fixture.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { type EchoServer, startTestNetwork, type TestNetwork, testUpstreamRange } from '../testing/test-network.js';

// The gateway runs a third-party-style MCP server (written for this test, in
// testing/fixture-mcp-server.mjs) inside a sandbox, and every call to its
// tools goes through the daemon's policy, approvals and audit log. Here, in
// real sandboxes: what a server can reach of the network, its secrets and the
// host's files. The gateway's decisions are tested in gateway.test.ts.
const upstream = { allowed: '198.18.99.40', other: '198.18.99.41' };
let net: TestNetwork;
let daemon: TestDaemon;
const servers: Record<string, EchoServer> = {};
const fixture = fixtureCommand;

beforeAll(async () => {
  net = await startTestNetwork(Object.values(upstream));
  net.setName('allowed.gw.test', upstream.allowed);
  net.setName('other.gw.test', upstream.other);
  servers.allowed = await net.serve({ address: upstream.allowed, port: 80 });
  servers.other = await net.serve({ address: upstream.other, port: 80 });
  daemon = await startTestDaemon(['--dns-server', net.dnsServer, '--egress-allow-range', testUpstreamRange]);
  await buildFixtureTemplate(daemon.conn);
  // A server whose manifest names no host, for M2's "no network at all".
  await Gateway.add('fixture', { command: fixture, manifest: { template: 'mcp-fixture', tier: 'container' } }, daemon.conn);
  await whenReady('fixture', daemon.conn);
});

afterAll(async () => {
  await daemon?.stop();
  await net?.close();
});

describe('the gateway', () => {
  it('M2: lets the server reach only the hosts of its manifest: anything else is refused by the network layer', async () => {
    await Gateway.add(
      'netfix',
      { command: fixture, manifest: { template: 'mcp-fixture', tier: 'container', network: { allow: ['allowed.gw.test'] } } },
      daemon.conn,
    );
    await whenReady('netfix', daemon.conn);
    const allowed = await Gateway.callTool('netfix__fetch', { url: 'http://allowed.gw.test/hello' }, daemon.conn);
    expect(allowed.isError).toBeUndefined();
    expect(JSON.parse(textOf(allowed))).toMatchObject({ status: 200 });
    expect(servers.allowed?.seen.map((r) => r.url)).toContain('/hello');

    const refused = await Gateway.callTool('netfix__fetch', { url: 'http://other.gw.test/secret-path' }, daemon.conn);
    expect(refused.isError).toBe(true);
    expect(JSON.parse(textOf(refused))).toMatchObject({ status: 403 });
    expect(servers.other?.seen.map((r) => r.url)).not.toContain('/secret-path');
    const records = await Audit.list({ ...daemon.conn, since: '5m', limit: 10_000 });
    expect(records).toContainEqual(
      expect.objectContaining({ action: 'network.connect', decision: 'deny', details: expect.objectContaining({ host: 'other.gw.test' }) }),
    );

    // Not the daemon's API either, though the server knows its address (C5).
    const daemonApi = await Gateway.callTool('netfix__fetch', { url: `${daemon.url}/v1/health` }, daemon.conn);
    expect(daemonApi.isError).toBe(true);
    expect(JSON.parse(textOf(daemonApi))).toMatchObject({ status: 403 });

    // A server with no hosts in its manifest has no network at all.
    const offline = await Gateway.callTool('fixture__fetch', { url: 'http://allowed.gw.test/offline' }, daemon.conn);
    expect(offline.isError).toBe(true);
    expect(servers.allowed?.seen.map((r) => r.url)).not.toContain('/offline');
    expect((await Gateway.callTool('fixture__fetch', { url: `${daemon.url}/v1/health` }, daemon.conn)).isError).toBe(true);
  });
});

describe('a server on the gvisor tier (the default) with a secret and host files', () => {
  it('runs, sees only the placeholder of its secret, and reaches host files as its manifest says', async () => {
    await daemon.api('/v1/secrets/GW_TOKEN', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'real-secret-value-123', hosts: ['allowed.gw.test'] }),
    });
    const readDir = mkdtempSync('/tmp/paddock-gw-read-');
    const writeDir = mkdtempSync('/tmp/paddock-gw-write-');
    writeFileSync(join(readDir, 'notes.txt'), 'from the host');
    // The server runs as the sandbox's root, an unprivileged uid on the host (100000): it reads what others may
    // read, and writes where the operator let that uid write.
    chmodSync(readDir, 0o755);
    execFileSync('chown', ['100000:100000', writeDir]);
    try {
      await Gateway.add(
        'hardened',
        {
          command: fixture,
          manifest: {
            template: 'mcp-fixture',
            network: { allow: ['allowed.gw.test'] },
            secrets: ['GW_TOKEN'],
            files: { read: [readDir], write: [writeDir] },
          },
        },
        daemon.conn,
      );
      const ready = await whenReady('hardened', daemon.conn);
      expect(ready.manifest).toMatchObject({ tier: 'gvisor' });
      expect(textOf(await Gateway.callTool('hardened__env', { name: 'GW_TOKEN' }, daemon.conn))).toMatch(/^paddock-placeholder-[0-9a-f]{32}$/);
      expect(textOf(await Gateway.callTool('hardened__read_file', { path: `${readDir}/notes.txt` }, daemon.conn))).toBe('from the host');
      const refused = await Gateway.callTool('hardened__write_file', { path: `${readDir}/planted.txt`, text: 'x' }, daemon.conn);
      expect(refused.isError).toBe(true);
      expect(existsSync(join(readDir, 'planted.txt'))).toBe(false);
      expect(textOf(await Gateway.callTool('hardened__write_file', { path: `${writeDir}/out.txt`, text: 'written inside' }, daemon.conn))).toBe('written');
      expect(readFileSync(join(writeDir, 'out.txt'), 'utf8')).toBe('written inside');
      // Nothing else of the host is there.
      expect((await Gateway.callTool('hardened__read_file', { path: join(daemon.stateDir, 'token') }, daemon.conn)).isError).toBe(true);
      const fetched = await Gateway.callTool('hardened__fetch', { url: 'http://allowed.gw.test/through-gvisor' }, daemon.conn);
      expect(JSON.parse(textOf(fetched))).toMatchObject({ status: 200 });
    } finally {
      await Gateway.remove('hardened', daemon.conn).catch(() => {});
      rmSync(readDir, { recursive: true, force: true });
      rmSync(writeDir, { recursive: true, force: true });
    }
  });
});

describe('a server given volumes', () => {
  it('mounts the tenant’s volumes as its manifest says: reads a read-only one, writes a read-write one, which stays in use until the server goes', async () => {
    const docs = await Volumes.create({ ...daemon.conn, name: 'gw-docs', sizeMiB: 64 });
    await docs.files.write('/guide.txt', 'from the volume');
    const out = await Volumes.create({ ...daemon.conn, name: 'gw-out', sizeMiB: 64 });
    const manifest = {
      template: 'mcp-fixture',
      tier: 'container' as const,
      volumes: [
        { name: 'gw-docs', path: '/docs', readOnly: true },
        { name: 'gw-out', path: '/out' },
      ],
    };
    try {
      await Gateway.add('with-volumes', { command: fixture, manifest }, daemon.conn);
      await whenReady('with-volumes', daemon.conn);
      expect(textOf(await Gateway.callTool('with-volumes__read_file', { path: '/docs/guide.txt' }, daemon.conn))).toBe('from the volume');
      expect((await Gateway.callTool('with-volumes__write_file', { path: '/docs/planted.txt', text: 'x' }, daemon.conn)).isError).toBe(true);
      expect(textOf(await Gateway.callTool('with-volumes__write_file', { path: '/out/report.txt', text: 'by the server' }, daemon.conn))).toBe('written');
      expect(await out.files.read('/report.txt')).toBe('by the server');
      await expect(Volumes.delete('gw-out', daemon.conn)).rejects.toMatchObject({ status: 409 });
      // A volume the tenant does not have: refused before anything is stored.
      const missing = { ...manifest, volumes: [{ name: 'gw-nowhere', path: '/x' }] };
      await expect(Gateway.add('no-volume', { command: fixture, manifest: missing }, daemon.conn)).rejects.toMatchObject({ status: 404 });
      await expect(Gateway.get('no-volume', daemon.conn)).rejects.toMatchObject({ status: 404 });
    } finally {
      await Gateway.remove('with-volumes', daemon.conn).catch(() => {});
    }
    await Volumes.delete('gw-out', daemon.conn);
    await Volumes.delete('gw-docs', daemon.conn);
  });
});
