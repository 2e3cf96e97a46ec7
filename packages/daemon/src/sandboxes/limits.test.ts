import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

describe('resource limits', () => {
  it('OOM-kills a memory hog inside its cgroup and reports it (B2)', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, limits: { memoryMiB: 64 } });
    const r = await sbx.commands.runAllowingFailure(['python3', '-c', 'x = bytearray(400 * 1024 * 1024); print("survived")']);
    expect(r).toMatchObject({ oomKilled: true, signal: 'SIGKILL', exitCode: 137 });
    expect(r.stdout).not.toContain('survived');
    // The sandbox itself is still usable after the kill.
    expect((await sbx.commands.run(['echo', 'alive'])).stdout).toBe('alive\n');
    await sbx.kill();
  });

  it('stops a fork bomb at the pids limit while the daemon and other sandboxes stay responsive (B1)', async () => {
    const bystander = await Sandbox.create({ ...daemon.conn });
    const sbx = await Sandbox.create({ ...daemon.conn, limits: { pids: 64 } });
    const bomb = await sbx.commands.start(['sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 30']);
    // Let it hit the wall, then check everyone else still answers.
    await new Promise((r) => setTimeout(r, 1500));
    const health = await fetch(`${daemon.url}/v1/health`);
    expect(health.status).toBe(200);
    expect((await bystander.commands.run(['echo', 'fine'])).stdout).toBe('fine\n');
    const count = await sbx.commands.runAllowingFailure(['sh', '-c', 'ls /proc | grep -c "^[0-9]"']).catch((e: unknown) => e);
    // Either the count ran (and shows at most the limit) or the agent could not fork and said so: both prove the wall.
    if (count instanceof Error) expect(count).toMatchObject({ code: 'resource_exhausted', status: 503 });
    else if (count.exitCode === 0) expect(Number(count.stdout.trim())).toBeLessThanOrEqual(64);
    await bomb.kill().catch(() => {});
    await sbx.kill();
    expect((await bystander.commands.run(['echo', 'still fine'])).stdout).toBe('still fine\n');
    await bystander.kill();
  });

  it('says so when a full process table leaves no room for a command', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, limits: { pids: 8 } });
    // Fork until the kernel refuses, and keep every child: the table stays full.
    const filler = [
      'import os, time',
      'while True:',
      '    try:',
      '        pid = os.fork()',
      '    except OSError:',
      '        break',
      '    if pid == 0:',
      '        time.sleep(100)',
      '        os._exit(0)',
      'time.sleep(100)',
    ];
    await sbx.commands.start(['python3', '-c', filler.join('\n')]);
    await new Promise((r) => setTimeout(r, 500));
    await expect(sbx.commands.run(['true'])).rejects.toMatchObject({ code: 'resource_exhausted', status: 503 });
    await sbx.kill();
  });

  it('holds a CPU spin to the sandbox quota (B3)', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, limits: { cpus: 0.25 } });
    const script = [
      'import os, time',
      'start = time.monotonic(); t0 = os.times()',
      'while time.monotonic() - start < 2: pass',
      't1 = os.times()',
      'print((t1.user + t1.system - t0.user - t0.system) / (time.monotonic() - start))',
    ].join('\n');
    const r = await sbx.commands.run(['python3', '-c', script]);
    const share = Number(r.stdout.trim());
    // CFS quota of 0.25 core: the spinning process gets about a quarter of a core.
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.45);
    await sbx.kill();
  });

  it('limits the writable layer and reports the full disk (B4)', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, limits: { diskMiB: 32 } });
    const r = await sbx.commands.runAllowingFailure(['sh', '-c', 'dd if=/dev/zero of=/work/fill bs=1M count=100 2>&1; echo rc=$?']);
    expect(r.stdout).toMatch(/No space left on device/);
    expect(r.stdout).toMatch(/rc=1/);
    const df = await sbx.commands.run(['df', '-m', '/']);
    expect(df.stdout).toMatch(/\s32\s/);
    // The agent's folder is writable from inside: it lives on the same bounded layer, not on the host's disk.
    await sbx.commands.run(['rm', '-f', '/work/fill']);
    const side = await sbx.commands.runAllowingFailure(['sh', '-c', 'dd if=/dev/zero of=/.paddock/run/fill bs=1M count=100 2>&1; echo rc=$?']);
    expect(side.stdout).toMatch(/No space left on device/);
    await sbx.kill();
  });

  it('limits open file descriptors (B6)', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn });
    const r = await sbx.commands.run(['sh', '-c', 'ulimit -n; ulimit -Hn']);
    expect(r.stdout).toBe('4096\n4096\n');
    const opened = await sbx.commands.runAllowingFailure([
      'python3',
      '-c',
      'import os\nfds=[]\ntry:\n  while True: fds.append(os.open("/dev/null", os.O_RDONLY))\nexcept OSError as e: print(len(fds), e.errno)',
    ]);
    const [count, errno] = opened.stdout.trim().split(' ').map(Number);
    expect(count).toBeLessThan(4096);
    expect(errno).toBe(24);
    await sbx.kill();
  });
});
