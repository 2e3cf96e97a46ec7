import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer } from 'node:net';
import { NotFoundError, PolicyDeniedError, Sandbox, ValidationError } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';
import { cliPath, runCli } from '../testing/run-cli.js';

// Ports as the API and the CLI show them: URL forms, public links listed and
// revoked, requests refused. The fake host's commands share the host's
// loopback, so a server of this test stands in for one inside a sandbox;
// reaching real sandboxes, and every attack, is in security/ingress-probes.test.ts.
let daemon: TestDaemon;
let server: Server;
let serverPort: number;

beforeAll(async () => {
  daemon = await startFastDaemon();
  server = createServer((req, res) => res.end(`seen ${req.url} auth=${req.headers.authorization ?? '-'}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverPort = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await daemon?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

describe('ports through the API', () => {
  it('paddock port prints both URL forms; the path form reaches the server with the token, which the server never sees', async () => {
    const sbx = await Sandbox.create(daemon.conn);
    const apiPort = new URL(daemon.url).port;
    const printed = await runCli(['port', sbx.id, String(serverPort)], { env: daemon.env });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(
      `http://${serverPort}-${sbx.id}.sandbox.localhost:${apiPort}/\nhttp://127.0.0.1:${apiPort}/v1/sandboxes/${sbx.id}/ports/${serverPort}/\n`,
    );
    expect(await sbx.getHost(serverPort)).toBe(`${serverPort}-${sbx.id}.sandbox.localhost:${apiPort}`);
    const res = await daemon.api(`/v1/sandboxes/${sbx.id}/ports/${serverPort}/hello?x=1`);
    expect(await res.text()).toBe('seen /hello?x=1 auth=-');
    await sbx.kill();
  });

  it('public links are made, listed without their secret, and revoked; the CLI says so in one line each', async () => {
    const sbx = await Sandbox.create(daemon.conn);
    const made = await runCli(['port', sbx.id, String(serverPort), '--public', '--ttl', '10m'], { env: daemon.env });
    expect(made.code).toBe(0);
    const [hostUrl, pathUrl] = made.stdout.trim().split('\n');
    expect(hostUrl).toMatch(/\?paddock_link=pl_[\w-]+$/);
    const linkId = /public link (lnk-[0-9a-f]+)/.exec(made.stderr)?.[1] as string;
    // Anyone holding the link: no token at all.
    const opened = await fetch(pathUrl as string);
    expect(await opened.text()).toBe('seen / auth=-');

    const [listed] = await sbx.ports.links();
    expect(listed).toMatchObject({ id: linkId, port: serverPort, createdBy: 'admin' });
    expect(JSON.stringify(await sbx.ports.list())).not.toContain('pl_');
    const listing = await runCli(['port', sbx.id], { env: daemon.env });
    expect(listing.stdout).toContain(linkId);

    const revoked = await runCli(['port', sbx.id, '--revoke', linkId], { env: daemon.env });
    expect([revoked.code, revoked.stdout]).toEqual([0, `revoked ${linkId}\n`]);
    expect((await fetch(pathUrl as string)).status).toBe(401);
    expect(await sbx.ports.links()).toEqual([]);
    const again = await runCli(['port', sbx.id, '--revoke', linkId], { env: daemon.env });
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toContain(`no link ${linkId}`);
    await sbx.kill();
  });

  it('paddock port-forward carries raw TCP from a local port until interrupted; a bad mapping is one line and exit 2', async () => {
    // The daemon runs in this process: a warning of a listener leak on a forwarded connection would show here.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    onTestFinished(() => void process.off('warning', onWarning));
    const sbx = await Sandbox.create(daemon.conn);
    const lines = createNetServer((socket) => socket.on('data', (d) => socket.write(`echo: ${d.toString().toUpperCase()}`)));
    await new Promise<void>((resolve) => lines.listen(0, '127.0.0.1', resolve));
    const remote = (lines.address() as AddressInfo).port;
    const cli = spawn(process.execPath, [cliPath(), 'port-forward', sbx.id, `:${remote}`], { env: daemon.env });
    const first = await new Promise<string>((resolve) => cli.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    const m = /^forwarding 127\.0\.0\.1:(\d+) -> (sb-\w+):(\d+)\n$/.exec(first);
    expect(m?.slice(2)).toEqual([sbx.id, String(remote)]);
    const answers = await Promise.all(
      ['one', 'two', 'three'].map(
        (word) =>
          new Promise<string>((resolve, reject) => {
            const socket = connect(Number(m?.[1]), '127.0.0.1', () => socket.write(`${word}\n`));
            socket.once('data', (d: Buffer) => {
              resolve(d.toString());
              socket.end();
            });
            socket.on('error', reject);
          }),
      ),
    );
    expect(answers).toEqual(['echo: ONE\n', 'echo: TWO\n', 'echo: THREE\n']);
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    const exited = new Promise<number | null>((resolve) => cli.once('close', resolve));
    cli.kill('SIGINT');
    expect(await exited).not.toBeNull();
    lines.close();

    const bad = await runCli(['port-forward', sbx.id, '80:http'], { env: daemon.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('"80:http" is not LOCAL:REMOTE');
    await sbx.kill();
  });

  it('refuses bad ports, bad lifetimes, unknown links and links made by an agent', async () => {
    const sbx = await Sandbox.create(daemon.conn);
    await expect(sbx.ports.expose(0, { public: true })).rejects.toBeInstanceOf(ValidationError);
    await expect(sbx.ports.expose(8000, { public: true, ttlMs: 40 * 24 * 3600 * 1000 })).rejects.toBeInstanceOf(ValidationError);
    await expect(sbx.ports.expose(3128, { public: true })).rejects.toMatchObject({ code: 'invalid_port' });
    await expect(sbx.ports.revoke('lnk-000000000000')).rejects.toMatchObject({ code: 'port_link_not_found' });
    await expect(sbx.ports.revoke('lnk-000000000000')).rejects.toBeInstanceOf(NotFoundError);
    const badPort = await daemon.api(`/v1/sandboxes/${sbx.id}/ports/99999/`);
    expect(badPort.status).toBe(400);
    expect((await badPort.json()).error.code).toBe('invalid_port');
    const cli = await runCli(['port', sbx.id, 'http'], { env: daemon.env });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('"http" is not a TCP port');

    const created = await daemon.api('/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"role":"agent"}' });
    const agentToken = ((await created.json()) as { token: string }).token;
    const asAgent = await Sandbox.connect(sbx.id, { url: daemon.url, token: agentToken });
    await expect(asAgent.ports.expose(serverPort, { public: true })).rejects.toBeInstanceOf(PolicyDeniedError);
    // Reaching the port is the sandbox work agents do.
    const res = await fetch(`${daemon.url}/v1/sandboxes/${sbx.id}/ports/${serverPort}/`, { headers: { authorization: `Bearer ${agentToken}` } });
    expect(await res.text()).toBe('seen / auth=-');
    await sbx.kill();
    await expect(sbx.ports.list()).rejects.toBeInstanceOf(NotFoundError);
  });
});
