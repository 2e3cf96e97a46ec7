import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { ManualClock } from '../../daemon/src/testing/manual-clock.js';
import { runCli } from '../../daemon/src/testing/run-cli.js';

// A test here starts the CLI many times: on a loaded machine that takes
// longer than the fast tier's in-process tests are given.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let daemon: FastDaemon;
let work: string;
// Sandbox timeouts fall due when the test moves this clock (commands' own timeouts are real).
const clock = new ManualClock();

beforeAll(async () => {
  daemon = await startFastDaemon([], {}, { clock });
  work = mkdtempSync('/tmp/paddock-cli-');
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await daemon?.stop();
});

// Not spawnSync: the daemon runs in this process and must keep answering.
const paddock = (args: string[], stdin?: string) => runCli(args, { env: daemon.env, stdin });

describe('paddock CLI', () => {
  it('answers bad input with one line and a non-zero exit, creating nothing', async () => {
    const before = (await paddock(['ls', '-q', '--all'])).stdout;
    const bad = await paddock(['run', '--memory', '1zb', '--', 'true']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toBe('paddock: --memory: invalid size "1zb" (use a number with b, k, m, g or t)\n');
    const missing = await paddock(['run']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const unknown = await paddock(['exec', 'sb-000000000000', '--', 'true']);
    expect(unknown).toMatchObject({ code: 1, stderr: 'paddock: sandbox sb-000000000000 not found\n' });
    expect(await paddock(['run', '--tier', 'vm', '--', 'true'])).toMatchObject({
      code: 2,
      stderr: 'paddock: --tier: expected container, gvisor or auto, got "vm"\n',
    });
    const template = await paddock(['run', '-T', 'nope', '--', 'true']);
    expect(template.code).toBe(125);
    expect(template.stderr).toContain('template nope not found');
    expect((await paddock(['ls', '-q', '--all'])).stdout).toBe(before);
  });

  it('creates, execs, copies both ways, lists, inspects and kills', async () => {
    const created = await paddock(['create', '--template', 'base', '--timeout', '10m', '--label', 'task=demo']);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^sb-[a-z0-9]{12}$/);
    expect(await paddock(['exec', id, '--', 'ls', '/work'])).toEqual({ code: 0, stdout: '', stderr: '' });

    writeFileSync(join(work, 'data.csv'), 'a,b\n1,2\n');
    expect((await paddock(['cp', join(work, 'data.csv'), `${id}:/work/data.csv`])).code).toBe(0);
    expect((await paddock(['exec', id, '--', 'sh', '-c', 'wc -l < /work/data.csv > /work/out.txt'])).code).toBe(0);
    expect((await paddock(['cp', `${id}:/work/out.txt`, join(work, 'out.txt')])).code).toBe(0);
    expect(readFileSync(join(work, 'out.txt'), 'utf8')).toBe('2\n');

    const table = await paddock(['ls', '--label', 'task=demo']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+TEMPLATE\s+TIER\s+STATE\s+CREATED\s+EXPIRES\s+LABELS$/);
    expect(table.stdout).toContain(id);
    const json = JSON.parse((await paddock(['ls', '--json'])).stdout);
    expect(json.map((s: { id: string }) => s.id)).toContain(id);
    expect(JSON.parse((await paddock(['inspect', id])).stdout)).toMatchObject({ id, state: 'running', metadata: { task: 'demo' } });

    expect(await paddock(['exec', '-i', id, '--', 'sh', '-c', 'read x; echo got $x'], 'hello\n')).toMatchObject({ code: 0, stdout: 'got hello\n' });
    expect((await paddock(['exec', id, '--', 'sh', '-c', 'exit 9'])).code).toBe(9);

    expect(await paddock(['kill', id])).toMatchObject({ code: 0, stdout: `${id}\n` });
    const again = await paddock(['exec', id, '--', 'true']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^paddock: sandbox .* (was killed|no longer exists)/);
  });

  it('shows the output of background commands with logs and ps', async () => {
    const id = (await paddock(['create'])).stdout.trim();
    const pid = (await paddock(['exec', '-d', id, '--', 'sh', '-c', 'echo bg-start; sleep 0.3; echo bg-end'])).stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    expect((await paddock(['logs', '-f', id, pid])).stdout).toBe('bg-start\nbg-end\n');
    expect((await paddock(['logs', id])).stdout).toBe('bg-start\nbg-end\n');
    expect((await paddock(['ps', id])).stdout).toMatch(new RegExp(`^${pid}\\s+exited\\s+0\\s`, 'm'));
    await paddock(['kill', id]);
  });

  it('prints versions', async () => {
    expect((await paddock(['version'])).stdout).toBe('paddock 0.1.0\npaddockd 0.1.0\n');
  });
});

/** Exits with 2, the code of every bad input, and says what is wrong in one line. */
async function expectBadInput(args: string[], stderr: string): Promise<void> {
  expect(await paddock(args), args.join(' ')).toEqual({ code: 2, stdout: '', stderr: `paddock: ${stderr}\n` });
}

describe('paddock CLI usability', () => {
  // U6: range errors named the API's fields in ms and MiB (timeoutMs: Too big: expected number to be <=86400000) and exited 125 or 1.
  it('U6: bad input names the flag and its units, with exit code 2 whatever the flag', async () => {
    const before = (await paddock(['ls', '-q', '--all'])).stdout;
    await expectBadInput(['run', '--timeout', '100h', '--', 'true'], '--timeout: at most 24h');
    await expectBadInput(['create', '--timeout', '500ms'], '--timeout: at least 1s');
    await expectBadInput(['run', '--memory', '1k', '--', 'true'], '--memory: at least 16m');
    await expectBadInput(['run', '--memory', '300g', '--', 'true'], '--memory: at most 256g');
    await expectBadInput(['run', '--cpus', '1000', '--', 'true'], '--cpus: at most 256');
    await expectBadInput(['run', '--pids', '4', '--', 'true'], '--pids: at least 8');
    await expectBadInput(['run', '--disk', '2t', '--', 'true'], '--disk: at most 1t');
    await expectBadInput(['exec', '--timeout', '100h', 'sb-000000000000', '--', 'true'], '--timeout: at most 24h');
    await expectBadInput(['wait', 'sb-000000000000', '--timeout', '25h'], '--timeout: at most 24h');
    await expectBadInput(['run', '--timeout', 'soon', '--', 'true'], '--timeout: invalid duration "soon" (use e.g. 30s, 10m, 1h)');
    await expectBadInput(['run', '--bogus'], "unknown option '--bogus'");
    await expectBadInput(['run'], 'missing command: give it after --, e.g. paddock run -- python3 -V');
    await expectBadInput(['kill'], 'kill needs sandbox ids, or --all');
    // Refused by the daemon's own schema, told in flags all the same.
    const refused: Array<[string[], string]> = [
      [['run', '-e', '1BAD=x', '--', 'true'], '--env'],
      [['create', '-l', '-bad=x'], '--label'],
    ];
    for (const [args, flag] of refused) {
      expect(await paddock(args), args.join(' ')).toMatchObject({
        code: 2,
        stdout: '',
        stderr: expect.stringMatching(new RegExp(`^paddock: ${flag}: [^\n]+\n$`)),
      });
    }
    expect((await paddock(['ls', '-q', '--all'])).stdout).toBe(before);
    // The command's own fields are checked once its sandbox exists (run then removes it).
    expect(await paddock(['run', '-u', 'no body', '--', 'true'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(/^paddock: --user: [^\n]+\n$/),
    });
  });

  // U7: a command killed at its timeout was reported as "killed: timeout", its sandbox's end as "was timeout".
  it('U7: says a command or a sandbox timed out, and after how long', async () => {
    const id = (await paddock(['create', '--timeout', '3s'])).stdout.trim();
    const killed = await paddock(['exec', '--timeout', '1s', id, '--', 'sh', '-c', 'echo started; sleep 30']);
    expect(killed).toEqual({ code: 137, stdout: 'started\n', stderr: 'paddock: the command timed out after 1s and was killed\n' });
    // Once its 3 s are up, the sandbox is gone, and the CLI says why.
    clock.advance(3000);
    expect(await paddock(['exec', id, '--', 'true'])).toMatchObject({ code: 1, stderr: `paddock: sandbox ${id} timed out and no longer exists\n` });
  });

  // U8: `wait` on a blocked command hung until the sandbox died; it now gives up at --timeout and leaves the command running.
  it('U8: wait --timeout gives up on a blocked command with 124, leaving it running; wait prints the exit code of one that ends', async () => {
    const id = (await paddock(['create'])).stdout.trim();
    try {
      const pid = (await paddock(['exec', '-d', id, '--', 'sleep', '60'])).stdout.trim();
      expect(await paddock(['wait', '--timeout', '1s', id, pid])).toEqual({
        code: 124,
        stdout: '',
        stderr: `paddock: process ${pid} is still running after 1s: the wait timed out, the command goes on\n`,
      });
      expect((await paddock(['ps', id])).stdout).toMatch(new RegExp(`^${pid}\\s+running\\s`, 'm'));
      const quick = (await paddock(['exec', '-d', id, '--', 'sh', '-c', 'sleep 0.3; exit 5'])).stdout.trim();
      expect(await paddock(['wait', '--timeout', '1m', id, quick])).toEqual({ code: 0, stdout: '5\n', stderr: '' });
    } finally {
      await paddock(['kill', id]);
    }
  });

  it('answers a Dockerfile line it cannot honour with one line and a non-zero exit, before any step runs', async () => {
    const before = (await paddock(['ls', '-q', '--all'])).stdout;
    writeFileSync(join(work, 'Bad.Dockerfile'), 'FROM base\nRUN touch /ran\nVOLUME /data\n');
    const bad = await runCli(['template', 'build', 'cli-bad', '--file', 'Bad.Dockerfile', '.'], { env: daemon.env, cwd: work });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^paddock: Dockerfile line 3: VOLUME is not supported[^\n]*\n$/);
    expect((await paddock(['ls', '-q', '--all'])).stdout).toBe(before);
  });
});
