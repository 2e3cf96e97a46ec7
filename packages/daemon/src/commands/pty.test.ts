import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

let daemon: TestDaemon;
let sbx: Sandbox;

beforeAll(async () => {
  daemon = await startTestDaemon();
  sbx = await Sandbox.create({ ...daemon.conn });
});

afterAll(async () => {
  await daemon?.stop();
});

describe('PTY sessions', () => {
  it('runs an interactive shell on a terminal, resizes it, and reports its exit', async () => {
    let screen = '';
    const pty = await sbx.pty.create({ cols: 80, rows: 24, onData: (d) => (screen += Buffer.from(d).toString()) });
    pty.sendInput('tty; stty size; echo $((6*7))\n');
    await expect.poll(() => screen, { timeout: 10_000 }).toMatch(/24 80[\s\S]*42/);
    expect(screen).toMatch(/\/dev\/pts\/\d+/);
    pty.resize({ cols: 132, rows: 40 });
    pty.sendInput('stty size\n');
    await expect.poll(() => screen, { timeout: 10_000 }).toContain('40 132');
    pty.sendInput('exit 7\n');
    const exit = await pty.wait();
    expect(exit.exitCode).toBe(7);
  });

  it('delivers Ctrl-C to the foreground program', async () => {
    let screen = '';
    const pty = await sbx.pty.create({ cols: 80, rows: 24, cmd: ['/bin/bash', '--norc'], onData: (d) => (screen += Buffer.from(d).toString()) });
    pty.sendInput('sleep 100\n');
    // Ctrl-C once the sleep runs: it then has the terminal's foreground (set before its exec).
    await expect
      .poll(async () => (await sbx.commands.run(['pgrep', '-x', 'sleep']).catch(() => ({ stdout: '' }))).stdout, { timeout: 10_000, interval: 100 })
      .toMatch(/^\d+\n$/);
    pty.sendInput('\u0003');
    pty.sendInput('echo after-sleep-$?\n');
    await expect.poll(() => screen, { timeout: 10_000 }).toContain('after-sleep-130');
    pty.kill();
    const exit = await pty.wait();
    expect(exit.signal).toBe('SIGKILL');
  });
});
