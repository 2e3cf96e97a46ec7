import { spawn, spawnSync } from 'node:child_process';
import type { CommandEvent } from '@paddock/core';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentOnHost } from '../testing/host-probe.js';
import { cliMain, startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// Section R (restart): commands outlive a daemon that is killed with SIGKILL.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

function paddock(args: string[]) {
  const r = spawnSync(process.execPath, [cliMain, ...args], { env: daemon.env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI in the background, for a command that is still waiting when the daemon dies. */
function paddockLater(args: string[], onStdout: (d: Buffer) => void = () => {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cliMain, ...args], { env: daemon.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    onStdout(d);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function outputEvents(sandboxId: string, pid: number): Promise<CommandEvent[]> {
  const res = await daemon.api(`/v1/sandboxes/${sandboxId}/processes/${pid}/output`);
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as CommandEvent);
}

function stdoutOf(events: CommandEvent[]): string {
  return events.map((e) => (e.type === 'stdout' ? Buffer.from(e.data, 'base64').toString() : '')).join('');
}

const counterScript = 'for i in $(seq 1 1000); do echo $i; sleep 0.05; done';
/** Bytes the counter has written once it has printed `lines` lines. */
/** A shell loop in the sandbox that waits, for at most 30 s, until the test marks the daemon as down (through the agent, as no daemon runs). */
const untilDaemonDown = 'for i in $(seq 600); do [ -e /tmp/daemon-down ] && break; sleep 0.05; done';
const counterBytes = (lines: number) => Array.from({ length: lines }, (_, i) => String(i + 1).length + 1).reduce((a, b) => a + b, 0);

describe.each(['container', 'gvisor'] as const)('commands across a daemon crash (%s)', (tier) => {
  it('R1–R3: keeps running commands listed under the same pids, with the output written while the daemon was down, and lets them be followed, waited for and killed', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    const counter = await sbx.commands.start(['sh', '-c', counterScript]);
    const background = await sbx.commands.start(['sh', '-c', 'echo bg-up; sleep 1000']);
    // Ends while the daemon is down: its exit code must not be lost.
    const ender = await sbx.commands.start(['sh', '-c', `${untilDaemonDown}; echo ended >&2; exit 3`]);
    await expect.poll(async () => stdoutOf(await outputEvents(sbx.id, counter.pid)), { timeout: 20_000 }).toMatch(/^1\n2\n3\n/);
    await expect.poll(async () => stdoutOf(await outputEvents(sbx.id, background.pid)), { timeout: 20_000 }).toBe('bg-up\n');
    const seenBefore = stdoutOf(await outputEvents(sbx.id, counter.pid))
      .split('\n')
      .filter(Boolean).length;

    await daemon.crash();
    // The ender ends and the counter writes on with no daemon listening, as the
    // agent itself tells (asked on the host, through the socket the daemon uses).
    const agent = agentOnHost(daemon.stateDir, sbx.id);
    await agent.mkdir('/tmp/daemon-down', undefined, { timeoutMs: 5000 });
    await expect
      .poll(
        async () => {
          const procs = await agent.processes({ timeoutMs: 5000 });
          const written = procs.find((p) => p.pid === counter.pid)?.written.stdout ?? 0;
          return { enderExit: procs.find((p) => p.pid === ender.pid)?.exit ?? null, counterWroteOn: written >= counterBytes(seenBefore + 12) };
        },
        { timeout: 20_000, interval: 100 },
      )
      .toEqual({ enderExit: { exitCode: 3, signal: 0 }, counterWroteOn: true });
    await daemon.restart();
    // The restarted daemon listens on a new port here: clients connect again.
    const sbx2 = await Sandbox.connect(sbx.id, daemon.conn);

    const ps = paddock(['ps', sbx.id]);
    expect(ps.code).toBe(0);
    expect(ps.stdout).toMatch(new RegExp(`^${counter.pid}\\s+running\\s`, 'm'));
    expect(ps.stdout).toMatch(new RegExp(`^${background.pid}\\s+running\\s`, 'm'));
    expect(ps.stdout).toMatch(new RegExp(`^${ender.pid}\\s+exited\\s+3\\s`, 'm'));
    const listed = await sbx2.commands.list();
    expect(listed.find((p) => p.pid === counter.pid)).toMatchObject({ cmd: ['sh', '-c', counterScript], state: 'running', user: 'root' });

    // What the counter wrote while the daemon was down is there.
    const logs = paddock(['logs', sbx.id, String(counter.pid)]);
    expect(logs.code).toBe(0);
    const lines = logs.stdout.split('\n').filter(Boolean).map(Number);
    expect(lines.slice(0, 3)).toEqual([1, 2, 3]);
    expect(lines.length).toBeGreaterThan(seenBefore + 10);
    expect(lines).toEqual(lines.map((_, i) => i + 1));
    expect(paddock(['logs', sbx.id, String(background.pid)]).stdout).toBe('bg-up\n');

    // Following goes on with new output.
    const followed: string[] = [];
    const joined = await sbx2.commands.connect(counter.pid, { onStdout: (d) => followed.push(d) });
    const lastSoFar = lines.at(-1) as number;
    await expect.poll(() => followed.join('').split('\n').filter(Boolean).map(Number).at(-1), { timeout: 20_000 }).toBeGreaterThan(lastSoFar + 5);

    // wait() gives the exit code of a command that ended while the daemon was down.
    const ended = await (await sbx2.commands.connect(ender.pid)).wait().catch((e: unknown) => e);
    expect(ended).toMatchObject({ exitCode: 3, stderr: 'ended\n' });

    // Kill reaches adopted commands, and a wait and logs -f see it.
    const cliFollow = paddockLater(['logs', '-f', sbx.id, String(background.pid)]);
    await sbx2.commands.kill(background.pid, 'SIGTERM');
    await expect((await sbx2.commands.connect(background.pid)).wait()).rejects.toMatchObject({ exitCode: 143 });
    expect(await cliFollow).toEqual({ code: 0, stdout: 'bg-up\n', stderr: '' });
    await joined.kill();
    await expect(joined.wait()).rejects.toMatchObject({ exitCode: 137 });
    expect((await sbx2.commands.list()).filter((p) => p.state === 'running')).toEqual([]);
    await sbx2.kill();
  });

  it('R4: a client waiting when the daemon dies gets a retryable connection_lost error and re-attaches by pid', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    const running = await sbx.commands.start(['sh', '-c', 'echo waiting; read x; echo "got $x"; exit 5'], { openStdin: true });
    const waiting = running.wait().catch((e: unknown) => e);
    const seen: string[] = [];
    const following = running.follow({ onStdout: (d) => seen.push(d) }).catch((e: unknown) => e);
    let streamedPid = 0;
    const streaming = sbx.commands.run(['sh', '-c', 'echo streamed; sleep 1000'], { onStdout: () => {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    let cliSaw = '';
    const cliFollow = paddockLater(['logs', '-f', sbx.id, String(running.pid)], (d) => (cliSaw += d));
    await expect.poll(() => seen.join(''), { timeout: 20_000 }).toBe('waiting\n');
    await expect
      .poll(async () => (streamedPid = (await sbx.commands.list()).find((p) => p.cmd[2] === 'echo streamed; sleep 1000')?.pid ?? 0), { timeout: 20_000 })
      .toBeGreaterThan(0);
    // The CLI has attached to the stream before the crash: it printed what it follows.
    await expect.poll(() => cliSaw, { timeout: 20_000 }).toBe('waiting\n');

    await daemon.crash();
    for (const err of [await waiting, await following, await streaming]) {
      expect(err).toMatchObject({ code: 'connection_lost', status: 503, details: { retryable: true } });
    }
    expect(await streaming).toMatchObject({ details: { pid: streamedPid } });
    const cli = await cliFollow;
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/^paddock: [^\n]*connection[^\n]*lost[^\n]*\n$/);
    await daemon.restart();

    const sbx2 = await Sandbox.connect(sbx.id, daemon.conn);
    const again = await sbx2.commands.connect(running.pid);
    await again.sendStdin('more\n');
    await expect(again.wait()).rejects.toMatchObject({ exitCode: 5, stdout: 'waiting\ngot more\n' });
    await sbx2.commands.kill(streamedPid);
    await sbx2.kill();
  });

  it('R5: output flooded while the daemon is down is kept to its last MiB, with a marker, and the agent stays small', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    const flood = 20_000_000;
    const flooder = await sbx.commands.start(['sh', '-c', `${untilDaemonDown}; head -c ${flood} /dev/zero | tr '\\0' x; echo; echo tail-end; sleep 1000`]);
    await daemon.crash();
    // The flood happens now, with nobody reading: the agent counts what the command wrote.
    const agent = agentOnHost(daemon.stateDir, sbx.id);
    await agent.mkdir('/tmp/daemon-down', undefined, { timeoutMs: 5000 });
    const total = flood + '\ntail-end\n'.length;
    await expect
      .poll(async () => (await agent.processes({ timeoutMs: 5000 })).find((p) => p.pid === flooder.pid)?.written.stdout, { timeout: 30_000, interval: 100 })
      .toBe(total);
    await daemon.restart();
    const sbx2 = await Sandbox.connect(sbx.id, daemon.conn);

    const events = await outputEvents(sbx.id, flooder.pid);
    const kept = stdoutOf(events);
    expect(kept.endsWith('x\ntail-end\n')).toBe(true);
    expect(kept.length).toBe(1024 * 1024);
    expect(events.find((e) => (e as { type: string }).type === 'dropped')).toEqual({ type: 'dropped', stream: 'stdout', bytes: total - 1024 * 1024 });
    const logs = paddock(['logs', sbx.id, String(flooder.pid)]);
    expect(logs.stderr).toBe(`paddock: ${total - 1024 * 1024} earlier bytes of stdout were not kept\n`);
    expect(logs.stdout.length).toBe(1024 * 1024);
    // The supervisor holding the output (the command's parent) did not grow with it.
    const rss = await sbx2.commands.run(['sh', '-c', `awk '/^VmRSS/ {print $2}' /proc/$(awk '{print $4}' /proc/${flooder.pid}/stat)/status`]);
    expect(Number(rss.stdout.trim())).toBeLessThan(8 * 1024);
    const adopted = await sbx2.commands.connect(flooder.pid);
    await adopted.kill();
    await expect(adopted.wait()).rejects.toMatchObject({ exitCode: 137 });
    expect((await sbx2.commands.list()).find((p) => p.pid === flooder.pid)).toMatchObject({ state: 'exited', signal: 'SIGKILL' });
    await sbx2.kill();
  });
});

describe('a hostile agent at adoption', () => {
  it('R6: a fake agent listing hundreds of forged commands that never answer cannot hold up the restart nor get them listed', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    // Sandbox root replaces the agent's socket: pings are answered, it claims
    // re-attach, the process list names 500 commands with forged requests, and attaches hang.
    await sbx.commands.start([
      'python3',
      '-c',
      [
        'import os, socket, struct',
        'os.unlink("/.paddock/run/agent.sock")',
        's = socket.socket(socket.AF_UNIX); s.bind("/.paddock/run/agent.sock"); s.listen(64)',
        'frame = lambda t, p: t + struct.pack(">I", len(p)) + p',
        'forged = b"".join(frame(b"D", b"%d running - - 0 0 0 0\\n" % (1000 + i) + b"{\\"cmd\\":[\\"\\x1b[2Jforged\\"]}") for i in range(500))',
        'held = []',
        'while True:',
        '    c, _ = s.accept()',
        '    head = c.recv(5, socket.MSG_WAITALL); req = c.recv(struct.unpack(">I", head[1:])[0], socket.MSG_WAITALL)',
        '    if b"o:ping\\0" in req: c.sendall(frame(b"X", b"0 0")); c.close()',
        '    elif b"o:hello\\0" in req: c.sendall(frame(b"D", b"1 exec files procs attach") + frame(b"X", b"0 0")); c.close()',
        '    elif b"o:procs\\0" in req: c.sendall(forged + frame(b"X", b"0 0")); c.close()',
        '    else: held.append(c)',
      ].join('\n'),
    ]);
    await expect
      .poll(async () => (await sbx.files.list('/work', { timeoutMs: 2000 }).catch((e: { code?: string }) => e.code)) as unknown, { timeout: 10_000 })
      .toBe('timeout');

    await daemon.crash();
    // 500 attaches of 5 s each would keep it from listening for 40 minutes; restart() gives up after 30 s.
    await daemon.restart();
    const info = await (await daemon.api(`/v1/sandboxes/${sbx.id}`)).json();
    expect(info).toMatchObject({ state: 'running' });
    const listed = await (await daemon.api(`/v1/sandboxes/${sbx.id}/processes`)).json();
    expect(listed).toEqual({ processes: [] });
    expect((await daemon.api(`/v1/sandboxes/${sbx.id}`, { method: 'DELETE' })).status).toBe(200);
  });
});

describe.each(['container', 'gvisor'] as const)('terminals across a daemon crash (%s)', (tier) => {
  it('R7: a terminal session keeps running, its client hears the connection was lost, and it can be joined again', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    let screen = '';
    const pty = await sbx.pty.create({ cols: 80, rows: 24, cmd: ['/bin/bash', '--norc'], onData: (d) => (screen += Buffer.from(d).toString()) });
    pty.sendInput('echo before-$((6*7))\n');
    await expect.poll(() => screen, { timeout: 10_000 }).toContain('before-42');
    const lost = pty.wait().catch((e: unknown) => e);

    await daemon.crash();
    expect(await lost).toMatchObject({ code: 'connection_lost', details: { retryable: true } });
    await daemon.restart();

    const sbx2 = await Sandbox.connect(sbx.id, daemon.conn);
    expect((await sbx2.commands.list()).find((p) => p.pid === pty.pid)).toMatchObject({ state: 'running', pty: true });
    let again = '';
    const joined = await sbx2.pty.connect(pty.pid, { onData: (d) => (again += Buffer.from(d).toString()) });
    await expect.poll(() => again, { timeout: 10_000 }).toContain('before-42');
    joined.resize({ cols: 132, rows: 40 });
    joined.sendInput('stty size; echo after-$((6*7))\n');
    await expect.poll(() => again, { timeout: 10_000 }).toMatch(/40 132[\s\S]*after-42/);
    joined.sendInput('exit 7\n');
    expect(await joined.wait()).toMatchObject({ exitCode: 7 });
    await sbx2.kill();
  });
});

describe('supervisor sockets inside the sandbox', () => {
  it('R8: an unprivileged user of the sandbox cannot reach the supervisor of a root command (to feed it stdin or take its output)', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const target = await sbx.commands.start(['sh', '-c', 'read secret; echo "$secret"'], { openStdin: true });
    const probe = await sbx.commands.runAllowingFailure(
      [
        'python3',
        '-c',
        [
          'import socket, sys',
          `s = socket.socket(socket.AF_UNIX)`,
          'try:',
          `    s.connect("/dev/.paddock-procs/${target.pid}"); s.sendall(b"I"); print("reached", s.recv(100))`,
          'except OSError as e:',
          '    print("refused", e.errno); sys.exit(3)',
        ].join('\n'),
      ],
      { user: 'user' },
    );
    expect(probe).toMatchObject({ exitCode: 3, stdout: 'refused 13\n' });
    await sbx.commands.kill(target.pid);
    await sbx.kill();
  });
});
