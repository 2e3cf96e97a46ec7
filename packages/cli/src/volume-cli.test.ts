import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, startTestDaemon, type TestDaemon } from '../../daemon/src/testing/test-daemon.js';

let daemon: TestDaemon;
let work: string;

beforeAll(async () => {
  daemon = await startTestDaemon();
  work = mkdtempSync('/tmp/paddock-cli-volumes-');
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await daemon?.stop();
});

function paddock(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cliMain, ...args], { env: daemon.env, input, encoding: 'utf8', cwd: work });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('paddock volume', () => {
  it('creates, lists, inspects, mounts with run -v and create -v, copies both ways without a sandbox, and removes', () => {
    expect(paddock(['volume', 'create', 'repo', '--size', '64m'])).toEqual({ code: 0, stdout: 'repo\n', stderr: '' });
    expect(paddock(['volume', 'create', 'cache', '--size', '32m']).code).toBe(0);
    expect(paddock(['run', '-v', 'repo:/work/repo', '-u', 'user', '--', 'sh', '-c', 'echo cloned > /work/repo/README && id -un'])).toEqual({
      code: 0,
      stdout: 'user\n',
      stderr: '',
    });
    // Files in and out without a sandbox.
    writeFileSync(join(work, 'x.txt'), 'local\n');
    mkdirSync(join(work, 'tree/sub'), { recursive: true });
    writeFileSync(join(work, 'tree/sub/deep.txt'), 'deep\n');
    expect(paddock(['volume', 'cp', './x.txt', 'repo:/dir/'])).toMatchObject({ code: 0, stdout: '' });
    expect(paddock(['volume', 'cp', './tree', 'repo:/'])).toMatchObject({ code: 0, stdout: '' });
    expect(paddock(['volume', 'cp', 'repo:/README', '-'])).toMatchObject({ code: 0, stdout: 'cloned\n' });
    expect(paddock(['volume', 'cp', 'repo:/tree', './back'])).toMatchObject({ code: 0 });
    expect(readFileSync(join(work, 'back/sub/deep.txt'), 'utf8')).toBe('deep\n');
    // Read-only and a second volume in one create.
    const created = paddock(['create', '-v', 'repo:/data:ro', '-v', 'cache:/root/.cache']);
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(paddock(['exec', id, '--', 'sh', '-c', 'cat /data/dir/x.txt /data/tree/sub/deep.txt && touch /root/.cache/ok && touch /data/no'])).toMatchObject({
      code: 1,
      stdout: 'local\ndeep\n',
      stderr: expect.stringContaining('Read-only file system'),
    });
    const listed = paddock(['volume', 'ls']);
    expect(listed.stdout).toMatch(new RegExp(`repo\\s+64\\.0 MiB\\s+\\S+.*${id} \\(ro\\)`));
    expect(JSON.parse(paddock(['volume', 'inspect', 'cache']).stdout)).toMatchObject({
      name: 'cache',
      sizeMiB: 32,
      mounts: [{ sandbox: id, path: '/root/.cache' }],
    });
    // In use: refused with one line and a non-zero exit.
    expect(paddock(['volume', 'rm', 'cache'])).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(/^paddock: volume cache is mounted in sb-\w+; kill it first\n$/),
    });
    expect(paddock(['kill', id]).code).toBe(0);
    // A whole volume out and into another one.
    const exported = spawnSync('sh', ['-c', `node ${cliMain} volume export repo > repo.tar`], { env: daemon.env, cwd: work, encoding: 'utf8' });
    expect(exported).toMatchObject({ status: 0, stderr: '' });
    expect(paddock(['volume', 'import', 'cache', 'repo.tar'])).toEqual({ code: 0, stdout: '', stderr: '3 files and 3 folders imported into cache\n' });
    expect(paddock(['volume', 'cp', 'cache:/tree/sub/deep.txt', '-']).stdout).toBe('deep\n');
    expect(paddock(['volume', 'import', 'cache', 'missing.tar'])).toMatchObject({ code: 1, stderr: 'paddock: missing.tar: cannot be read\n' });
    expect(paddock(['volume', 'rm', 'repo', 'cache'])).toEqual({ code: 0, stdout: 'repo\ncache\n', stderr: '' });
    expect(paddock(['volume', 'ls', '--json']).stdout).toBe('[]\n');
  });

  it('answers bad input with one line and a non-zero exit', () => {
    expect(paddock(['volume', 'create', 'tiny', '--size', '1m'])).toEqual({ code: 2, stdout: '', stderr: 'paddock: --size: at least 16m\n' });
    expect(paddock(['run', '-v', 'repo', '--', 'true'])).toMatchObject({
      code: 2,
      stderr: 'paddock: --volume: expected NAME:/path or NAME:/path:ro, got "repo"\n',
    });
    expect(paddock(['run', '-v', 'nope:/work', '--', 'true'])).toMatchObject({ code: 125, stderr: expect.stringContaining('volume nope not found') });
    expect(paddock(['run', '-v', 'nope:/proc', '--', 'true'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'paddock: volumes.0.path: a volume cannot be mounted at / or under /proc, /sys, /dev or /.paddock\n',
    });
    expect(paddock(['run', '-v', 'nope://proc', '--', 'true'])).toMatchObject({ code: 2, stderr: expect.stringContaining('no "//"') });
    expect(paddock(['volume', 'inspect', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'paddock: volume nope not found\n' });
    expect(paddock(['volume', 'cp', './a', './b'])).toMatchObject({ code: 2, stderr: expect.stringContaining('NAME:/path') });
    expect(paddock(['volume', 'create', 'seeded', '--size', '64m', '--from-template', 'base'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'paddock: --from-template: expected TEMPLATE:/folder, e.g. py-ds:/work, got "base"\n',
    });
    expect(paddock(['volume', 'create', 'seeded', '--size', '64m', '--from-template', 'base:/proc'])).toMatchObject({
      code: 2,
      stderr: 'paddock: --from-template: the folder to copy is not / and not under /proc, /sys, /dev or /.paddock\n',
    });
    expect(paddock(['volume', 'ls', '--json']).stdout).not.toContain('seeded');
    expect(statSync(work).isDirectory()).toBe(true);
  });

  it("sets a tenant's volume quotas", () => {
    expect(paddock(['tenant', 'create', 'vq', '--max-volumes', '1', '--max-volume-size', '32m']).code).toBe(0);
    expect(JSON.parse(paddock(['tenant', 'inspect', 'vq']).stdout)).toMatchObject({ maxVolumes: 1, maxVolumeMiB: 32 });
    expect(paddock(['tenant', 'update', 'vq', '--max-volume-size', 'none']).code).toBe(0);
    expect(JSON.parse(paddock(['tenant', 'inspect', 'vq']).stdout)).toMatchObject({ maxVolumes: 1, maxVolumeMiB: null });
    expect(paddock(['tenant', 'update', 'vq', '--max-volumes', '1.5'])).toMatchObject({
      code: 2,
      stderr: 'paddock: --max-volumes: "1.5" is not a whole number\n',
    });
  });
});
