import { createHash } from 'node:crypto';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';
import { runCli } from '../testing/run-cli.js';

// Takeover as the API shows it, over the fast tier's fake agent (its
// "terminal" is pipes, not a PTY): control marked for every reader, the
// taker's terminal, viewers, the recording and handback. The attacks on it
// are in security/dashboard-probes.test.ts (W6, W7); a real PTY in a real
// sandbox in takeover-real.test.ts.
let daemon: FastDaemon;
let agent: { id: string; token: string };
let operator: { id: string; token: string };

beforeAll(async () => {
  daemon = await startFastDaemon();
  agent = await newToken({ role: 'agent' });
  operator = await newToken({ role: 'operator', owner: 'bob@example.com' });
});

afterAll(async () => {
  await daemon?.stop();
});

async function newToken(body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const res = await daemon.api('/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

const as = (token: string, init: RequestInit = {}) => ({ ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });

/** A WebSocket on a process: what it printed (stdout), and the JSON messages it got. */
function attach(sandboxId: string, pid: number, token: string, query = '') {
  const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/v1/sandboxes/${sandboxId}/processes/${pid}/attach${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const got = { out: '', messages: [] as Array<{ type: string; error?: { code: string } }> };
  ws.on('message', (data, binary) => {
    if (binary)
      got.out += Buffer.from(data as Buffer)
        .subarray(1)
        .toString();
    else got.messages.push(JSON.parse(String(data)));
  });
  const open = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return { ws, got, open };
}

describe('takeover', () => {
  it('marks the sandbox human-controlled for every reader, records the taker’s terminal, and hands back', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const taken = await sbx.takeover({ cols: 100, rows: 30 });
    expect(taken.control).toMatchObject({ mode: 'human', by: 'admin', pid: taken.pid });
    const sessionId = taken.control.mode === 'human' ? taken.control.sessionId : '';
    expect(sessionId).toMatch(/^tko-[0-9a-f]{16}$/);
    // The agent sees it, through the API it already uses.
    const seen = (await (await fetch(`${daemon.url}/v1/sandboxes/${sbx.id}`, as(agent.token))).json()) as { control: unknown };
    expect(seen.control).toEqual(taken.control);

    const taker = attach(sbx.id, taken.pid, daemon.token);
    const viewer = attach(sbx.id, taken.pid, agent.token, '?mode=view');
    await Promise.all([taker.open, viewer.open]);
    taker.ws.send(Buffer.from('echo taken-$((6*7))\n'));
    await expect.poll(() => taker.got.out, { timeout: 10_000 }).toContain('taken-42');
    await expect.poll(() => viewer.got.out, { timeout: 10_000 }).toContain('taken-42');

    const back = await sbx.handback();
    expect(back.control).toEqual({ mode: 'agent' });
    expect(back.recording.sessionId).toBe(sessionId);
    expect((await sbx.getInfo()).control).toEqual({ mode: 'agent' });

    const [listed] = await sbx.recordings.list();
    expect(listed).toMatchObject({ sessionId, by: 'admin', bytes: back.recording.bytes, sha256: back.recording.sha256 });
    expect(listed?.endedAt).not.toBeNull();
    const cast = await sbx.recordings.get(sessionId);
    expect(Buffer.byteLength(cast)).toBe(back.recording.bytes);
    expect(createHash('sha256').update(cast).digest('hex')).toBe(back.recording.sha256);
    const [header, ...events] = cast
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(header).toMatchObject({ version: 2, width: 100, height: 30 });
    expect(events).toContainEqual([expect.any(Number), 'i', 'echo taken-$((6*7))\n']);
    expect(
      events
        .filter((e) => e[1] === 'o')
        .map((e) => e[2])
        .join(''),
    ).toContain('taken-42');
    const res = await daemon.api(`/v1/sandboxes/${sbx.id}/recordings/${sessionId}`);
    expect(res.headers.get('content-type')).toBe('application/x-asciicast');

    const audit = (await (await daemon.api(`/v1/audit?limit=10000`)).json()) as {
      records: Array<{ action: string; resource: string; details: Record<string, unknown> }>;
    };
    const mine = audit.records.filter((r) => r.resource === `sandbox:${sbx.id}`);
    expect(mine.find((r) => r.action === 'sandbox.takeover')?.details).toMatchObject({ sessionId });
    expect(mine.find((r) => r.action === 'sandbox.handback')?.details).toMatchObject({ sessionId, bytes: back.recording.bytes, sha256: back.recording.sha256 });
    taker.ws.close();
    viewer.ws.close();
    await sbx.kill();
  });

  it('lets one person hold a sandbox at a time: 409 for another, the same answer again for the taker', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const first = await sbx.takeover();
    expect((await sbx.takeover()).pid).toBe(first.pid);
    const other = await fetch(`${daemon.url}/v1/sandboxes/${sbx.id}/takeover`, as(operator.token, { method: 'POST', body: '{}' }));
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ error: { code: 'already_taken_over', details: { by: 'admin' } } });
    const handback = await fetch(`${daemon.url}/v1/sandboxes/${sbx.id}/handback`, as(operator.token, { method: 'POST' }));
    expect(((await handback.json()) as { error: { code: string } }).error.code).toBe('already_taken_over');
    await sbx.handback();
    const again = await sbx.handback().catch((err: { code: string }) => err.code);
    expect(again).toBe('not_taken_over');
    await sbx.kill();
  });

  it('hands back by itself when the terminal exits or the sandbox ends', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const taken = await sbx.takeover();
    const taker = attach(sbx.id, taken.pid, daemon.token);
    await taker.open;
    taker.ws.send(Buffer.from('exit\n'));
    await expect.poll(async () => (await sbx.getInfo()).control, { timeout: 10_000 }).toEqual({ mode: 'agent' });
    await sbx.takeover();
    await sbx.kill();
    const recordings = await sbx.recordings.list();
    expect(recordings).toHaveLength(2);
    await expect.poll(async () => (await sbx.recordings.list()).every((r) => r.sha256 !== null), { timeout: 10_000 }).toBe(true);
    const audit = (await (await daemon.api('/v1/audit?limit=10000')).json()) as {
      records: Array<{ action: string; resource: string; details: { reason?: string } }>;
    };
    const reasons = audit.records.filter((r) => r.resource === `sandbox:${sbx.id}` && r.action === 'sandbox.handback').map((r) => r.details.reason);
    expect(reasons).toEqual(['terminal exited', 'terminal exited']);
  });

  it('paddock handback prints the recording in one line', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const taken = await sbx.takeover();
    const cli = await runCli(['handback', sbx.id], { env: daemon.env });
    expect(cli.stderr).toBe('');
    const sessionId = taken.control.mode === 'human' ? taken.control.sessionId : '';
    expect(cli.stdout).toMatch(new RegExp(`^handed back ${sbx.id}: recording ${sessionId}, \\d+ bytes, sha256 [0-9a-f]{64}\\n$`));
    const none = await runCli(['handback', sbx.id], { env: daemon.env });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('is not taken over');
    await sbx.kill();
  });

  it('paddock takeover joins the terminal; its exit hands back', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const cli = await runCli(['takeover', sbx.id], { env: daemon.env, stdin: 'echo via-cli-$((6*7))\nexit 3\n' });
    expect(cli.stdout).toContain('via-cli-42');
    expect(cli.stderr).toContain(`taken over ${sbx.id}`);
    expect(cli.code).toBe(3);
    await expect.poll(async () => (await sbx.getInfo()).control, { timeout: 10_000 }).toEqual({ mode: 'agent' });
    const [recording] = await sbx.recordings.list();
    expect(await sbx.recordings.get(recording?.sessionId as string)).toContain('via-cli-42');
    await sbx.kill();
  });
});
