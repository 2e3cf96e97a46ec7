import { CommandExitError, Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

let daemon: TestDaemon;
let sbx: Sandbox;

beforeAll(async () => {
  daemon = await startTestDaemon();
  sbx = await Sandbox.create({ ...daemon.conn, metadata: { suite: 'commands' } });
});

afterAll(async () => {
  await daemon?.stop();
});

/** A shell loop inside the sandbox that waits for a file the test writes, for at most 10 s. */
const untilExists = (path: string) => `for i in $(seq 200); do [ -e ${path} ] && break; sleep 0.05; done`;

describe('commands.run', () => {
  it('returns stdout, stderr and the exit code', async () => {
    const r = await sbx.commands.run(['python3', '-c', 'import sys; print(2+2); print("warn", file=sys.stderr)']);
    expect(r).toMatchObject({ exitCode: 0, stdout: '4\n', stderr: 'warn\n', signal: null, oomKilled: false, timedOut: false });
  });

  it('throws CommandExitError carrying output and code on a non-zero exit', async () => {
    const err = await sbx.commands.run(['sh', '-c', 'echo out; echo err >&2; exit 3']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect(err).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('streams output while the command still runs', async () => {
    const seen: string[] = [];
    // The second line is written only once the client has the first (or after 10 s, so the command always ends).
    const r = await sbx.commands.run(['sh', '-c', `echo first; read line < /dev/null; ${untilExists('/tmp/first-seen')}; echo second`], {
      onStdout: (d) => {
        seen.push(`stdout:${d.trim()}`);
        if (d.includes('first')) void sbx.files.write('/tmp/first-seen', '');
      },
    });
    // The first chunk arrived on its own, before the second was even written.
    expect(seen).toEqual(['stdout:first', 'stdout:second']);
    expect(r.stdout).toBe('first\nsecond\n');
  });

  it('feeds stdin, env, cwd and user', async () => {
    const r = await sbx.commands.run(['sh', '-c', 'cat; echo "$GREETING"; pwd; id -u'], {
      stdin: 'from stdin\n',
      env: { GREETING: 'hello' },
      cwd: '/tmp',
      user: 'user',
    });
    expect(r.stdout).toBe('from stdin\nhello\n/tmp\n1000\n');
  });

  it('feeds a large stdin to a command that writes as much back (no deadlock)', async () => {
    const input = 'x'.repeat(1_000_000);
    const r = await sbx.commands.run(['cat'], { stdin: input });
    expect(r.stdout.length).toBe(1_000_000);
  });

  it('kills a command flooding its output at its timeout', async () => {
    const r = await sbx.commands.runAllowingFailure(['yes'], { timeoutMs: 500, onStdout: () => {} });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
  });

  it('runs in /work by default and as root by default', async () => {
    const r = await sbx.commands.run(['sh', '-c', 'pwd; id -u']);
    expect(r.stdout).toBe('/work\n0\n');
  });

  it('kills a command at its own timeout and says so', async () => {
    const r = await sbx.commands.runAllowingFailure(['sleep', '30'], { timeoutMs: 300 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL', exitCode: 137 });
  });

  it('tells a missing working directory apart from a missing program', async () => {
    const err = await sbx.commands.run(['true'], { cwd: '/no/such/dir' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'invalid_cwd', message: expect.stringContaining('/no/such/dir') });
  });

  it('kills a streamed command whose client goes away, even while its output is held back', async () => {
    const controller = new AbortController();
    const res = await daemon.api(`/v1/sandboxes/${sbx.id}/exec`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ cmd: ['yes', 'endless'] }),
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const pid = JSON.parse(first.split('\n')[0] as string).pid as number;
    // Stop reading until back-pressure pauses the process (blocked writing its pipe), then hang up.
    await expect.poll(async () => (await sbx.commands.run(['cat', `/proc/${pid}/wchan`])).stdout, { timeout: 10_000, interval: 100 }).toMatch(/pipe_write/);
    controller.abort();
    await expect.poll(async () => (await sbx.commands.list()).find((p) => p.pid === pid)?.state, { timeout: 10_000 }).toBe('exited');
  });

  it('starts every command with no signal ignored, caught or blocked', async () => {
    // cat: it sets no handler of its own (grep does, for SIGSEGV).
    const status = (await sbx.commands.run(['cat', '/proc/self/status'])).stdout;
    expect(status.split('\n').filter((line) => /^Sig(Blk|Ign|Cgt):/.test(line))).toEqual([
      'SigBlk:\t0000000000000000',
      'SigIgn:\t0000000000000000',
      'SigCgt:\t0000000000000000',
    ]);
  });

  it('reports a missing program as a clear error', async () => {
    const err = await sbx.commands.run(['no-such-program']).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, message: expect.stringContaining('no-such-program') });
  });
});

describe('cancellation', () => {
  it('stops a streamed command when the caller aborts after it started', async () => {
    const controller = new AbortController();
    let started = false;
    const run = sbx.commands.runAllowingFailure(['sh', '-c', 'echo go; sleep 30'], {
      signal: controller.signal,
      onStdout: () => {
        started = true;
        controller.abort();
      },
    });
    await expect(run).rejects.toBeDefined();
    expect(started).toBe(true);
    await expect
      .poll(async () => (await sbx.commands.list()).filter((p) => p.cmd.join(' ') === 'sh -c echo go; sleep 30' && p.state === 'running').length, {
        timeout: 10_000,
      })
      .toBe(0);
  });
});

describe('cancellation of a plain exec', () => {
  it('kills the command when the client of a POST …/exec (JSON answer, not streamed) hangs up', async () => {
    const controller = new AbortController();
    const call = fetch(`${daemon.url}/v1/sandboxes/${sbx.id}/exec`, {
      method: 'POST',
      headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ cmd: ['sh', '-c', 'sleep 31'] }),
      signal: controller.signal,
    });
    const running = async () => (await sbx.commands.list()).filter((p) => p.cmd.join(' ') === 'sh -c sleep 31' && p.state === 'running').length;
    await expect.poll(running, { timeout: 10_000 }).toBe(1);
    controller.abort();
    await expect(call).rejects.toBeDefined();
    await expect.poll(running, { timeout: 10_000 }).toBe(0);
  });
});

describe('background commands', () => {
  it('starts, lists, streams and kills a process', async () => {
    const chunks: string[] = [];
    const p = await sbx.commands.start(['sh', '-c', 'echo started; sleep 100'], { onStdout: (d) => chunks.push(d) });
    const listed = await sbx.commands.list();
    expect(listed.find((x) => x.pid === p.pid)).toMatchObject({ state: 'running', cmd: ['sh', '-c', 'echo started; sleep 100'] });
    await expect.poll(() => chunks.join('')).toBe('started\n');
    await p.kill();
    const err = await p.wait().catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 137 });
    const after = await sbx.commands.list();
    expect(after.find((x) => x.pid === p.pid)).toMatchObject({ state: 'exited', signal: 'SIGKILL' });
  });

  it('delivers stdin written later and returns the result by wait()', async () => {
    const p = await sbx.commands.start(['sh', '-c', 'read a; read b; echo "$b-$a"'], { openStdin: true });
    await p.sendStdin('one\n');
    await p.sendStdin('two\n');
    const r = await p.wait();
    expect(r.stdout).toBe('two-one\n');
  });

  it('lets another client join a running process and read its output', async () => {
    const p = await sbx.commands.start(['sh', '-c', `echo early; ${untilExists('/tmp/joined')}; echo late`]);
    const again = await Sandbox.connect(sbx.id, daemon.conn);
    const seen: string[] = [];
    const joined = await again.commands.connect(p.pid, { onStdout: (d) => seen.push(d) });
    // Still running when joined: it writes its last line only now.
    await sbx.files.write('/tmp/joined', '');
    await joined.wait();
    expect(seen.join('')).toBe('early\nlate\n');
  });
});

describe('exited commands a sandbox keeps', () => {
  it('keeps the last 100 exited, forgetting the ones that exited first, and every running one', async () => {
    const box = await Sandbox.create({ ...daemon.conn, metadata: { suite: 'commands-kept' } });
    const running = await box.commands.start(['sleep', '60']);
    const pids: number[] = [];
    for (let i = 0; i < 103; i++) pids.push((await box.commands.run(['true'])).pid);
    const listed = await box.commands.list();
    expect(listed.filter((p) => p.state === 'exited').map((p) => p.pid)).toEqual(pids.slice(3));
    expect(listed.find((p) => p.pid === running.pid)).toMatchObject({ state: 'running' });
    await box.kill();
  });

  it('keeps at most 16 MiB of exited commands’ output, forgetting the ones that exited first', async () => {
    const box = await Sandbox.create({ ...daemon.conn, metadata: { suite: 'commands-kept-bytes' } });
    const pids: number[] = [];
    // 1 MiB of stdout each, all of it kept (the per-stream limit): 18 MiB in all.
    for (let i = 0; i < 18; i++) pids.push((await box.commands.run(['head', '-c', String(1024 * 1024), '/dev/zero'])).pid);
    const listed = await box.commands.list();
    expect(listed.map((p) => p.pid)).toEqual(pids.slice(2));
    await box.kill();
  });
});
