import { createHash } from 'node:crypto';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// Takeover in a real sandbox: a real PTY, typed into through the attach
// WebSocket, its output and input in the recording, then handed back.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

describe('takeover of a real sandbox', () => {
  it('types a command into the taken-over terminal, records it, and hands back', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const taken = await sbx.takeover({ cols: 90, rows: 20 });
    expect((await sbx.getInfo()).control).toEqual(taken.control);
    let screen = '';
    const pty = await sbx.pty.connect(taken.pid, { onData: (d) => (screen += Buffer.from(d).toString()) });
    pty.sendInput('tty; stty size; echo taken-$((6*7))\n');
    await expect.poll(() => screen, { timeout: 15_000 }).toMatch(/\/dev\/pts\/\d+[\s\S]*20 90[\s\S]*taken-42/);

    const back = await sbx.handback();
    expect(back.control).toEqual({ mode: 'agent' });
    expect((await pty.wait()).signal).toBe('SIGKILL');
    const cast = await sbx.recordings.get(back.recording.sessionId);
    expect(createHash('sha256').update(cast).digest('hex')).toBe(back.recording.sha256);
    const [header, ...events] = cast
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(header).toMatchObject({ version: 2, width: 90, height: 20 });
    expect(
      events
        .filter((e) => e[1] === 'i')
        .map((e) => e[2])
        .join(''),
    ).toBe('tty; stty size; echo taken-$((6*7))\n');
    const output = events
      .filter((e) => e[1] === 'o')
      .map((e) => e[2])
      .join('');
    expect(output).toContain('taken-42');
    expect(output).toMatch(/\/dev\/pts\/\d+/);
    await sbx.kill();
  });

  it('closes a recording a crashed daemon left open, on its next start', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const taken = await sbx.takeover();
    const sessionId = taken.control.mode === 'human' ? taken.control.sessionId : '';
    await daemon.crash();
    await daemon.restart();
    const again = await Sandbox.connect(sbx.id, daemon.conn);
    const [recording] = await again.recordings.list();
    expect(recording).toMatchObject({ sessionId, by: 'admin' });
    expect(recording?.endedAt).not.toBeNull();
    const cast = await again.recordings.get(sessionId);
    expect(recording?.sha256).toBe(createHash('sha256').update(cast).digest('hex'));
    const audit = (await (await daemon.api('/v1/audit?limit=10000')).json()) as {
      records: Array<{ action: string; details: { sessionId?: string; reason?: string } }>;
    };
    expect(audit.records.find((r) => r.action === 'sandbox.handback' && r.details.sessionId === sessionId)?.details.reason).toBe('daemon restarted');
    expect((await again.getInfo()).control).toEqual({ mode: 'agent' });
    await again.kill();
  });
});
