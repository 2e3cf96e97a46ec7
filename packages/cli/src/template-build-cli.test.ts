import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, startTestDaemon, type TestDaemon } from '../../daemon/src/testing/test-daemon.js';

let daemon: TestDaemon;
let work: string;

beforeAll(async () => {
  daemon = await startTestDaemon(['--build-allow-domain', 'none']);
  work = mkdtempSync('/tmp/paddock-cli-build-');
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await daemon?.stop();
});

function paddock(args: string[]) {
  const r = spawnSync(process.execPath, [cliMain, ...args], { env: daemon.env, encoding: 'utf8', cwd: work });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('paddock template build with a Dockerfile', () => {
  it('builds with --build-arg, marks the steps it reused as cached, runs them all with --no-cache, and gc removes what no template uses', () => {
    writeFileSync(join(work, '.dockerignore'), 'private.txt\n');
    writeFileSync(join(work, 'private.txt'), 'not for the template\n');
    writeFileSync(join(work, 'data.txt'), 'data\n');
    writeFileSync(join(work, 'Dockerfile'), 'FROM base\nARG MSG=default\nCOPY . /app/\nRUN echo "$MSG" > /app/msg.txt\nCMD ["cat", "/app/msg.txt"]\n');
    const first = paddock(['template', 'build', 'cli-docker', '--build-arg', 'MSG=hi', '.']);
    expect(first).toMatchObject({ code: 0, stdout: 'cli-docker\n' });
    expect(first.stderr).toContain('Step 4/6 : RUN echo "$MSG" > /app/msg.txt\n');
    expect(first.stderr).not.toContain('(cached)');
    expect(paddock(['run', '-T', 'cli-docker', '--', 'sh', '-c', 'ls -A /app; cat /app/msg.txt']).stdout).toBe(
      '.dockerignore\nDockerfile\ndata.txt\nmsg.txt\nhi\n',
    );

    const again = paddock(['template', 'build', 'cli-docker', '--build-arg', 'MSG=hi', '.']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('Step 3/6 : COPY . /app/ (cached)\n');
    expect(again.stderr).toContain('Step 4/6 : RUN echo "$MSG" > /app/msg.txt (cached)\n');

    const fresh = paddock(['template', 'build', 'cli-docker', '--build-arg', 'MSG=hi', '--no-cache', '.']);
    expect(fresh.code).toBe(0);
    expect(fresh.stderr).not.toContain('(cached)');

    expect(paddock(['template', 'rm', 'cli-docker']).code).toBe(0);
    const gc = paddock(['gc']);
    expect(gc.code).toBe(0);
    expect(gc.stdout).toMatch(/^build cache layer c-[0-9a-f]{16}$/m);
  });

  it('does not send what .dockerignore leaves out: a context made large by an ignored folder builds', () => {
    const dir = join(work, 'big-context');
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    // Larger than the 64 MiB a context may be, all of it ignored.
    writeFileSync(join(dir, 'node_modules', 'blob.bin'), '');
    truncateSync(join(dir, 'node_modules', 'blob.bin'), 80 * 1024 * 1024);
    writeFileSync(join(dir, '.dockerignore'), 'node_modules\n');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)\n');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM base\nCOPY . /app/\n');
    const built = paddock(['template', 'build', 'cli-big', 'big-context']);
    expect(built).toMatchObject({ code: 0, stdout: 'cli-big\n' });
    expect(paddock(['run', '-T', 'cli-big', '--', 'ls', '-A', '/app']).stdout).toBe('.dockerignore\nDockerfile\napp.js\n');
    expect(paddock(['template', 'rm', 'cli-big']).code).toBe(0);
  });
});
