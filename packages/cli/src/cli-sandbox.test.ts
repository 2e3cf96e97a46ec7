import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, startTestDaemon, type TestDaemon } from '../../daemon/src/testing/test-daemon.js';

// The CLI over real sandboxes, for what the fast tier's fake host cannot show
// (another kernel, template layers); the rest of the CLI's tests are in cli.test.ts.
let daemon: TestDaemon;
let work: string;

beforeAll(async () => {
  daemon = await startTestDaemon();
  work = mkdtempSync('/tmp/paddock-cli-');
  writeFileSync(join(work, 'data.csv'), 'a,b\n1,2\n');
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

  it('builds, lists and removes a template from a Paddockfile with progress lines', () => {
    writeFileSync(join(work, 'Paddockfile'), 'FROM base\nENV HELLO=world\nWORKDIR /srv\nCOPY data.csv ./\nRUN echo "built $HELLO" > built.txt\n');
    const build = paddock(['template', 'build', 'cli-demo', '--file', 'Paddockfile']);
    expect(build).toMatchObject({ code: 0, stdout: 'cli-demo\n' });
    expect(build.stderr).toContain('Step 5/6 : RUN echo "built $HELLO" > built.txt');
    expect(paddock(['template', 'ls']).stdout).toMatch(/^cli-demo\s+base\s/m);
    expect(paddock(['run', '-T', 'cli-demo', '--', 'cat', 'built.txt', 'data.csv']).stdout).toBe('built world\na,b\n1,2\n');
    expect(paddock(['template', 'rm', 'cli-demo']).code).toBe(0);
    expect(paddock(['template', 'ls', '--json']).stdout).not.toContain('cli-demo');
  });
});
