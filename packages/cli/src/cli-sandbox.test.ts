import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, startTestDaemon, type TestDaemon } from '../../daemon/src/testing/test-daemon.js';

// The CLI over real sandboxes, for what the fast tier's fake host cannot show
// (another kernel); the rest of the CLI's tests are in cli.test.ts.
let daemon: TestDaemon;
let work: string;

beforeAll(async () => {
  daemon = await startTestDaemon();
  work = mkdtempSync('/tmp/paddock-cli-');
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await daemon?.stop();
});

function paddock(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cliMain, ...args], { env: daemon.env, input, encoding: 'utf8', cwd: work });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('paddock CLI', () => {
  it('runs a command in a fresh sandbox and passes its exit code on', () => {
    expect(paddock(['run', '--', 'python3', '-c', 'print(6*7)'])).toEqual({ code: 0, stdout: '42\n', stderr: '' });
    const limited = paddock(['run', '--memory', '256m', '--cpus', '0.5', '--pids', '128', '--timeout', '30s', '--', 'sh', '-c', 'echo hi; exit 3']);
    expect(limited).toMatchObject({ code: 3, stdout: 'hi\n' });
    // The gVisor tier answers with its own kernel.
    expect(paddock(['run', '--tier', 'gvisor', '--', 'uname', '-r'])).toEqual({ code: 0, stdout: '4.4.0\n', stderr: '' });
    // Nothing is left behind by run.
    expect(paddock(['ls', '-q']).stdout).toBe('');
  });
});
