import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type LeanChild, LeanSpawner } from './lean-spawner.js';
import { NativeSpawnHelper } from './native-spawn-helper.js';
import { runHostCommand } from './run-host-command.js';

const spawner = new LeanSpawner();
afterAll(() => spawner.stop());

/** Runs a child to its 'close', gathering what it wrote. */
function run(child: LeanChild, input?: Buffer | string): Promise<{ code: number | null; signal: string | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let err = '';
    child.once('error', reject);
    child.once('spawn', () => {
      child.stdout?.on('data', (d: Buffer) => out.push(d));
      child.stderr?.on('data', (d: Buffer) => (err += d));
      if (input !== undefined) child.stdin?.end(input);
    });
    child.once('close', (code: number | null, signal: string | null) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err }));
  });
}

describe('LeanSpawner', () => {
  it('runs a command with its args, cwd and env, and gives back its output whole and its exit code', async () => {
    const r = await run(
      spawner.spawn('/bin/sh', ['-c', 'echo "$0 $GREETING $(pwd)"; echo oops >&2; exit 3', 'arg0'], { cwd: '/tmp', env: { GREETING: 'hi' } }),
    );
    expect(r).toEqual({ code: 3, signal: null, stdout: Buffer.from('arg0 hi /tmp\n'), stderr: 'oops\n' });
  });

  it('loses no byte of output written at once, nor of its input', async () => {
    // Written before the pipes are handed over: the helper must not read any of it itself.
    const fast = await run(spawner.spawn('/bin/sh', ['-c', 'head -c 3000000 /dev/zero | tr "\\0" x']));
    expect(fast.stdout.length).toBe(3_000_000);
    const input = Buffer.alloc(5_000_000, 7);
    const echoed = await run(spawner.spawn('/bin/cat', []), input);
    expect(createHash('sha256').update(echoed.stdout).digest('hex')).toBe(createHash('sha256').update(input).digest('hex'));
  });

  it('says how a killed command ended, and reports a command that does not exist as an error', async () => {
    const sleeper = spawner.spawn('/bin/sleep', ['60']);
    const ended = run(sleeper);
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    expect(sleeper.kill('SIGTERM')).toBe(true);
    expect(await ended).toMatchObject({ code: null, signal: 'SIGTERM' });
    await expect(run(spawner.spawn('/no/such/program', []))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('starts a new helper when the last one died, killing the children it lost', async () => {
    const sleeper = spawner.spawn('/bin/sleep', ['60']);
    const ended = run(sleeper);
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    const helperPid = Number((await run(spawner.spawn('/bin/sh', ['-c', 'echo $PPID']))).stdout.toString().trim());
    process.kill(helperPid, 'SIGKILL');
    expect(await ended).toMatchObject({ signal: 'SIGKILL' });
    // Dead: gone, or a zombie its new parent has yet to reap.
    const dead = () => {
      try {
        return readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') === true;
      } catch {
        return true;
      }
    };
    await vi.waitFor(() => expect(dead()).toBe(true), { timeout: 10_000 });
    expect((await run(spawner.spawn('/bin/echo', ['again']))).stdout.toString()).toBe('again\n');
  });
});

describe('runHostCommand through a LeanSpawner', () => {
  it('returns the output, and stops a command at its timeout or its signal, even one given before the process has started', async () => {
    expect(await runHostCommand('/bin/sh', ['-c', 'cat; echo done'], { spawner, input: 'in\n' })).toEqual({ stdout: 'in\ndone\n', stderr: '' });
    await expect(runHostCommand('/bin/sleep', ['60'], { spawner, timeoutMs: 1 })).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(runHostCommand('/bin/sleep', ['60'], { spawner, signal: AbortSignal.abort() })).rejects.toThrow(/aborted/);
    await expect(runHostCommand('/bin/sh', ['-c', 'echo bad >&2; exit 4'], { spawner })).rejects.toMatchObject({ details: { exitCode: 4, stderr: 'bad\n' } });
  });

  it('gives back all of a large output and takes all of a large input, gathered by the helper or streamed to onOutput', async () => {
    const input = 'y'.repeat(5_000_000);
    const gathered = await runHostCommand('/bin/sh', ['-c', 'wc -c; head -c 3000000 /dev/zero | tr "\\0" x'], { spawner, input });
    expect(gathered.stdout.length).toBe('5000000\n'.length + 3_000_000);
    expect(gathered.stdout.startsWith('5000000\n')).toBe(true);
    let streamed = 0;
    const shown = await runHostCommand('/bin/sh', ['-c', 'head -c 3000000 /dev/zero | tr "\\0" x'], {
      spawner,
      onOutput: (chunk) => (streamed += chunk.length),
    });
    expect([shown.stdout.length, streamed]).toEqual([3_000_000, 3_000_000]);
  });
});

describe('LeanSpawner, stdio ignored or gathered (paddock-spawn, C)', () => {
  const gathered = (child: LeanChild) =>
    new Promise<{ code: number | null; signal: string | null; output: LeanChild['output'] }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code: number | null, signal: string | null) => resolve({ code, signal, output: child.output }));
    });

  it('runs a command with its args, cwd, env and input, gathering its output; ignored stdio; a missing program', async () => {
    expect(NativeSpawnHelper.available()).toBe(true);
    const child = spawner.spawn('/bin/sh', ['-c', 'echo "$0 $GREETING $(pwd) $(cat)"; echo oops >&2; exit 3', 'arg0'], {
      cwd: '/tmp',
      env: { GREETING: 'hi' },
      stdio: 'collect',
      input: 'typed',
    });
    expect(await gathered(child)).toEqual({ code: 3, signal: null, output: { stdout: 'arg0 hi /tmp typed\n', stderr: 'oops\n' } });
    expect(child.pid).toBeGreaterThan(0);
    expect(await gathered(spawner.spawn('/bin/sh', ['-c', 'echo lost; exit 5'], { stdio: 'ignore' }))).toEqual({ code: 5, signal: null, output: undefined });
    await expect(gathered(spawner.spawn('/no/such/program', [], { stdio: 'collect' }))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses one command when it is out of descriptors, and runs the next once it has them again', async () => {
    const helperPid = Number((await gathered(spawner.spawn('/bin/sh', ['-c', 'echo $PPID'], { stdio: 'collect' }))).output?.stdout.trim());
    // The soft limit only: the hard one could not be raised again.
    const limit = (n: number) => execFileSync('prlimit', [`--pid=${helperPid}`, `--nofile=${n}:`]);
    limit(5);
    try {
      await expect(gathered(spawner.spawn('/bin/echo', ['refused'], { stdio: 'collect' }))).rejects.toMatchObject({ code: 'EMFILE' });
    } finally {
      limit(1024);
    }
    expect((await gathered(spawner.spawn('/bin/echo', ['ran'], { stdio: 'collect' }))).output?.stdout).toBe('ran\n');
  });

  it('says how a killed command ended; a new helper starts after the last one died, its children killed', async () => {
    const sleeper = spawner.spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
    const ended = gathered(sleeper);
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    sleeper.kill('SIGTERM');
    expect(await ended).toMatchObject({ code: null, signal: 'SIGTERM' });

    const orphan = spawner.spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
    const lost = gathered(orphan);
    const helperPid = Number((await gathered(spawner.spawn('/bin/sh', ['-c', 'echo $PPID'], { stdio: 'collect' }))).output?.stdout.trim());
    expect(helperPid).not.toBe(process.pid);
    process.kill(helperPid, 'SIGKILL');
    expect(await lost).toMatchObject({ signal: 'SIGKILL' });
    expect((await gathered(spawner.spawn('/bin/echo', ['again'], { stdio: 'collect' }))).output?.stdout).toBe('again\n');
  });
});
