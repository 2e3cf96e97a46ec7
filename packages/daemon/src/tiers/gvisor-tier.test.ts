import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// The gVisor tier offers the same API as the container tier: commands, files,
// PTY, limits, pause and timeouts all behave alike from the caller's side.
let daemon: TestDaemon;
let sbx: Sandbox;

beforeAll(async () => {
  daemon = await startTestDaemon();
  sbx = await Sandbox.create({ ...daemon.conn, tier: 'gvisor', limits: { memoryMiB: 256, cpus: 0.5, pids: 128, diskMiB: 64 } });
});

afterAll(async () => {
  await daemon?.stop();
});

describe('the gVisor tier', () => {
  it('runs in gVisor’s kernel with the limits asked for', async () => {
    expect(sbx.tier).toBe('gvisor');
    expect(sbx.lastKnown.limits).toEqual({ memoryMiB: 256, cpus: 0.5, pids: 128, diskMiB: 64 });
    const r = await sbx.commands.run(['sh', '-c', 'uname -r; id -un; df -m / | tail -1']);
    const [kernel, user, df] = r.stdout.trim().split('\n');
    expect(kernel).toBe('4.4.0');
    expect(user).toBe('root');
    expect(df?.split(/\s+/)[1]).toBe('64');
  });

  it('runs coreutils that use statx (ls -l, stat), which this runsc refuses without the compatibility shim', async () => {
    const r = await sbx.commands.run(['sh', '-c', 'ls -l /etc/hostname | cut -d" " -f1; stat -c %s /etc/hostname; ls -ld /work | cut -c1']);
    expect(r.stdout).toBe(`-rw-r--r--\n${sbx.id.length + 1}\nd\n`);
  });

  it('writes, reads and lists files, as root and as the user', async () => {
    await sbx.files.write('/work/hello.txt', 'from the API');
    expect((await sbx.commands.run(['cat', '/work/hello.txt'])).stdout).toBe('from the API');
    await sbx.files.write('/home/user/mine.txt', 'u', { user: 'user' });
    const entry = (await sbx.files.list('/home/user')).find((e) => e.name === 'mine.txt');
    expect(entry).toMatchObject({ type: 'file', size: 1 });
    expect((await sbx.commands.run(['stat', '-c', '%U', '/home/user/mine.txt'])).stdout).toBe('user\n');
    const tar = await sbx.files.downloadArchive('/work');
    await sbx.files.uploadArchive('/tmp/copy', tar);
    expect(await sbx.files.read('/tmp/copy/work/hello.txt')).toBe('from the API');
  });

  it('streams output, takes stdin and reports exit codes and signals', async () => {
    const chunks: string[] = [];
    const r = await sbx.commands.runAllowingFailure(['sh', '-c', 'read x; echo "got $x"; echo err >&2; exit 4'], {
      stdin: 'line\n',
      onStdout: (d) => chunks.push(Buffer.from(d).toString()),
    });
    expect(r).toMatchObject({ exitCode: 4, stdout: 'got line\n', stderr: 'err\n' });
    expect(chunks.join('')).toBe('got line\n');
    const p = await sbx.commands.start(['sleep', '100']);
    await p.kill();
    await expect(p.wait()).rejects.toMatchObject({ exitCode: 137 });
  });

  it('tells an unknown user, a missing working directory and a missing program apart, as on the container tier', async () => {
    await expect(sbx.commands.run(['true'], { user: 'nobody-here' })).rejects.toMatchObject({ status: 400, code: 'unknown_user' });
    await expect(sbx.commands.run(['true'], { cwd: '/no/such/dir' })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_cwd',
      message: expect.stringContaining('/no/such/dir'),
    });
    await expect(sbx.commands.run(['no-such-program'])).rejects.toMatchObject({ status: 404, message: expect.stringContaining('no-such-program') });
    // The user is switched before the working directory is entered: root's home is closed to the user.
    await expect(sbx.commands.run(['true'], { cwd: '/root', user: 'user' })).rejects.toMatchObject({ status: 400, code: 'invalid_cwd' });
    expect((await sbx.commands.run(['pwd'], { cwd: '/tmp', user: 'user' })).stdout).toBe('/tmp\n');
  });

  it('starts a command with every signal at its default: a writer into a closed pipe dies of SIGPIPE', async () => {
    const r = await sbx.commands.run(['bash', '-c', 'yes | head -n1; echo $PIPESTATUS']);
    expect(r.stdout).toBe('y\n141\n');
  });

  it('runs an interactive shell on a terminal and resizes it', async () => {
    let screen = '';
    const pty = await sbx.pty.create({ cols: 80, rows: 24, onData: (d) => (screen += Buffer.from(d).toString()) });
    pty.sendInput('stty size; echo $((6*7))\n');
    await expect.poll(() => screen, { timeout: 10_000 }).toMatch(/24 80[\s\S]*42/);
    pty.resize({ cols: 100, rows: 30 });
    pty.sendInput('stty size\n');
    await expect.poll(() => screen, { timeout: 10_000 }).toContain('30 100');
    pty.sendInput('exit 3\n');
    expect((await pty.wait()).exitCode).toBe(3);
  });

  it('pauses and resumes, and ends at its timeout', async () => {
    const other = await Sandbox.create({ ...daemon.conn, tier: 'gvisor', timeoutMs: 3000 });
    await other.pause();
    await expect(other.commands.run(['true'])).rejects.toMatchObject({ code: 'sandbox_paused' });
    await other.resume();
    expect((await other.commands.run(['echo', 'back'])).stdout).toBe('back\n');
    await expect.poll(async () => (await other.getInfo()).endReason, { timeout: 10_000, interval: 200 }).toBe('timeout');
  });
});
