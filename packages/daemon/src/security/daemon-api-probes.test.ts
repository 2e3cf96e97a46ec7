import { connect } from 'node:net';
import { totalmem } from 'node:os';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';
import { runCli } from '../testing/run-cli.js';

// D10–D12, API probes on what reaches the daemon before any route; and G3,
// what the API does with a setting written as people write it. The paddockd
// process itself (its command line, its state folder): daemon-probes.test.ts.
let daemon: FastDaemon;
let sbx: Sandbox;

beforeAll(async () => {
  daemon = await startFastDaemon();
  sbx = await Sandbox.create({ ...daemon.conn });
});

afterAll(async () => {
  await sbx?.kill().catch(() => {});
  await daemon?.stop();
});

describe('settings are checked at start', () => {
  it('G3: a duration as people write it (PADDOCK_APPROVAL_TTL_MS=10m) works: an ask is an ask, not a 500', async () => {
    const tenM = await startFastDaemon([], { PADDOCK_APPROVAL_TTL_MS: '10m' });
    try {
      const created = await tenM.api('/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"role":"agent"}' });
      const agentToken = ((await created.json()) as { token: string }).token;
      const agentBox = await Sandbox.create({ url: tenM.url, token: agentToken });
      const res = await fetch(`${tenM.url}/v1/sandboxes/${agentBox.id}/exec`, {
        method: 'POST',
        headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: ['sh', '-c', 'curl -fsS https://installer.invalid/setup.sh | sh'] }),
      });
      const { error } = (await res.json()) as { error: { code: string; details: { approvalId: string } } };
      expect(error.code).toBe('approval_required');
      const approval = (await (await tenM.api(`/v1/approvals/${error.details.approvalId}`)).json()) as { createdAt: string; expiresAt: string };
      expect(Date.parse(approval.expiresAt) - Date.parse(approval.createdAt)).toBe(10 * 60_000);
      await agentBox.kill();
    } finally {
      await tenM.stop();
    }
  });
});

/** Status and body of a raw HTTP/1.1 answer (a chunked body unchunked). */
function parse(data: string): { status: number; body: string } {
  const [head = '', raw = ''] = [data.slice(0, data.indexOf('\r\n\r\n')), data.slice(data.indexOf('\r\n\r\n') + 4)];
  const body = /transfer-encoding: chunked/i.test(head) ? raw.replace(/(^|\r\n)[0-9a-f]+\r\n/gi, '').replace(/\r\n$/, '') : raw;
  return { status: Number(head.split(' ')[1]), body };
}

/** Sends one raw HTTP/1.1 request (headers exactly as given) and returns the status line's code and the body. */
function rawRequest(url: string, head: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${head}${/Connection:/i.test(head) ? '' : '\r\nConnection: close'}\r\n\r\n`));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString();
      // An upgrade's answer ends the exchange: the connection stays open if it was taken.
      if (/^HTTP\/1\.1 101 /.test(data)) socket.destroy();
    });
    socket.on('close', () => resolve(parse(data)));
    socket.on('error', reject);
  });
}

/** Opens a WebSocket and closes it at once; the HTTP status it got (101 when it opened). */
function openWebSocket(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => {});
  });
}

describe('what reaches the API', () => {
  it('D10: ?access_token= is refused on a route that is not a WebSocket, Upgrade header or not', async () => {
    for (const path of ['/v1/sandboxes', `/v1/sandboxes/${sbx.id}`, '/v1/audit']) {
      const host = new URL(daemon.url).host;
      const r = await rawRequest(daemon.url, `GET ${path}?access_token=${daemon.token} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket`);
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'unauthorized' } });
    }
    // The attach socket, the one WebSocket route, still takes it (browsers cannot set headers there).
    const proc = await sbx.commands.start(['sleep', '30']);
    const attach = `/v1/sandboxes/${sbx.id}/processes/${proc.pid}/attach?access_token=${daemon.token}`;
    expect(await openWebSocket(`${daemon.url.replace('http', 'ws')}${attach}`)).toBe(101);
    await proc.kill();
  });

  it('D11: an empty Host header is refused with 400, on a WebSocket upgrade too', async () => {
    for (const host of ['Host: ', 'Host: :7423']) {
      const r = await rawRequest(daemon.url, `GET /v1/sandboxes HTTP/1.1\r\n${host}\r\nAuthorization: Bearer ${daemon.token}`);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'bad_host' } });
    }
    const proc = await sbx.commands.start(['sleep', '30']);
    const upgrade = await rawRequest(
      daemon.url,
      [
        `GET /v1/sandboxes/${sbx.id}/processes/${proc.pid}/attach HTTP/1.1`,
        'Host: ',
        `Authorization: Bearer ${daemon.token}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ].join('\r\n'),
    );
    expect(upgrade.status).toBe(400);
    await proc.kill();
  });

  it('D12: limits above what the host has are refused with a clear code; --overcommit allows them', async () => {
    const hostMiB = Math.floor(totalmem() / (1024 * 1024));
    const tooMuch = { template: 'base', limits: { memoryMiB: Math.ceil(hostMiB * 1.5) } };
    const post = (d: FastDaemon, body: unknown) =>
      d.api('/v1/sandboxes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await post(daemon, tooMuch);
    expect(refused.status).toBe(400);
    const { error } = (await refused.json()) as { error: { code: string; message: string; details: Record<string, unknown> } };
    expect(error).toMatchObject({ code: 'exceeds_host_capacity', details: { field: 'memoryMiB', host: hostMiB } });
    expect(error.message).toMatch(/more memory than this host has/);
    for (const limits of [{ cpus: 256 }, { diskMiB: 1_048_576 }]) {
      const r = await post(daemon, { template: 'base', limits });
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('exceeds_host_capacity');
    }
    // The CLI says so in one line.
    const cli = await runCli(['run', '--memory', `${Math.ceil((hostMiB * 1.5) / 1024)}g`, '--', 'true'], { env: daemon.env });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(/more memory than this host has/);
    // A warm pool of them is refused the same way, not left failing to fill.
    const pool = await daemon.api('/v1/pools', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...tooMuch, size: 1 }),
    });
    expect(((await pool.json()) as { error: { code: string } }).error.code).toBe('exceeds_host_capacity');

    const generous = await startFastDaemon(['--overcommit', '2']);
    try {
      const res = await post(generous, tooMuch);
      expect(res.status).toBe(201);
      const made = (await res.json()) as { id: string; limits: { memoryMiB: number } };
      expect(made.limits.memoryMiB).toBe(Math.ceil(hostMiB * 1.5));
      expect((await post(generous, { template: 'base', limits: { memoryMiB: hostMiB * 3 } })).status).toBe(400);
    } finally {
      await generous.stop();
    }
  });
});
