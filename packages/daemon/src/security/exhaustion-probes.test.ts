import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupCpuSeconds, forksRefused, hostFootprint, processAlive } from '../testing/host-probe.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { probeTiers, py, sh } from './probe-kit.js';

// Section B of docs/security-probes.md: exhaustion, on every tier. "Contained" means
// the attack stays inside its sandbox, the daemon and every other sandbox keep
// working, and the outcome is reported clearly.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

describe.each(probeTiers)('exhaustion on the %s tier', (tier) => {
  const create = (options: Parameters<typeof Sandbox.create>[0] = {}) => Sandbox.create({ ...daemon.conn, tier, ...options });

  it('B1: a fork bomb is stopped at the pids limit; the daemon and other sandboxes stay responsive', async () => {
    const bystander = await create();
    const sbx = await create({ limits: { pids: 64 } });
    await sbx.commands.start(['sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 30']).catch(() => {});
    // The bomb has hit the wall: the host's pids cgroup refused it a fork (or, under
    // gVisor, the sandbox kernel gave up and the sandbox was ended).
    await expect
      .poll(async () => forksRefused(daemon.stateDir, sbx.id) > 0 || (await sbx.getInfo()).state === 'killed', { timeout: 30_000, interval: 100 })
      .toBe(true);
    expect((await fetch(`${daemon.url}/v1/health`)).status).toBe(200);
    expect((await bystander.commands.run(['echo', 'fine'])).stdout).toBe('fine\n');
    const count = await sh(sbx, 'ls /proc | grep -c "^[0-9]"').catch((e: unknown) => e as Error);
    if (count instanceof Error) {
      // The wall was hit: the agent could not fork and said so, or (gVisor, whose kernel
      // runs as host threads in the same pids cgroup) the sandbox kernel itself gave up
      // and the sandbox was ended with a reason, or the agent's connection dropped as it fell.
      expect(count).toMatchObject({ code: expect.stringMatching(/^(resource_exhausted|sandbox_exited|sandbox_not_found|agent_connection_lost)$/) });
    } else if (count.exitCode === 0) {
      expect(Number(count.stdout.trim())).toBeLessThanOrEqual(64);
    }
    await sbx.kill().catch(() => {});
    expect((await bystander.commands.run(['echo', 'still fine'])).stdout).toBe('still fine\n');
    expect(hostFootprint(daemon.stateDir, sbx.id).pids).toEqual([]);
    await bystander.kill();
  });

  it('B2: a memory hog is OOM-killed inside its own cgroup and the API says so', async () => {
    const bystander = await create();
    const sbx = await create({ limits: { memoryMiB: 128 } });
    const r = await py(sbx, ['x = bytearray(600 * 1024 * 1024)', 'print("survived")']);
    expect(r).toMatchObject({ oomKilled: true, signal: 'SIGKILL', exitCode: 137 });
    expect(r.stdout).not.toContain('survived');
    if (tier === 'container') {
      // Only the hog died: the sandbox is still usable.
      expect((await sbx.commands.run(['echo', 'alive'])).stdout).toBe('alive\n');
      await sbx.kill();
    } else {
      // gVisor's kernel holds the sandbox's memory in one host process, which the host
      // OOM killer ends: the whole sandbox goes, and its record says why.
      await expect.poll(async () => (await sbx.getInfo()).endReason, { timeout: 10_000 }).toBe('oom');
    }
    expect((await bystander.commands.run(['echo', 'fine'])).stdout).toBe('fine\n');
    await bystander.kill();
  });

  it('B3: a CPU spin is held to the sandbox’s quota (measured on the host)', async () => {
    const sbx = await create({ limits: { cpus: 0.25 } });
    const spinner = await sbx.commands.start(['python3', '-c', 'while True: pass']);
    // Spinning (its interpreter started and loaded) before the share is measured.
    await expect
      .poll(async () => (await sbx.commands.run(['pgrep', '-f', 'while True']).catch(() => ({ stdout: '' }))).stdout, { timeout: 10_000, interval: 100 })
      .toMatch(/^\d+\n$/);
    const [cpu0, t0] = [cgroupCpuSeconds(daemon.stateDir, sbx.id), performance.now()];
    // A share is CPU time over a stretch of wall time: this wait is the measurement, not waiting for a state.
    await new Promise((r) => setTimeout(r, 3000));
    const share = (cgroupCpuSeconds(daemon.stateDir, sbx.id) - cpu0) / ((performance.now() - t0) / 1000);
    // CFS quota of 0.25 core for everything the sandbox runs (under gVisor, its kernel too).
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.35);
    await spinner.kill();
    await sbx.kill();
  });

  it('B4: the writable layer is size-limited, the host disk untouched, the error reported', async () => {
    const sbx = await create({ limits: { diskMiB: 32 } });
    const r = await sh(sbx, 'dd if=/dev/zero of=/work/fill bs=1M count=100 2>&1; echo rc=$?');
    expect(r.stdout).toMatch(/No space left on device/);
    expect(r.stdout).toMatch(/rc=1/);
    const df = await sbx.commands.run(['df', '-m', '/work']);
    expect(df.stdout).toMatch(/\s32\s/);
    await sbx.commands.run(['rm', '-f', '/work/fill']);
    // The agent's folder lives on the same bounded layer, not on the host's disk.
    const side = await sh(sbx, 'dd if=/dev/zero of=/.paddock/run/fill bs=1M count=100 2>&1; echo rc=$?');
    expect(side.stdout).toMatch(tier === 'container' ? /No space left on device/ : /(No space left on device|Operation not permitted|Permission denied)/);
    await sbx.kill();
  });

  it('B5: endless output keeps the daemon’s memory bounded and says it truncated', async () => {
    const sbx = await create();
    const r = await sbx.commands.run(['sh', '-c', 'head -c 20000000 /dev/zero | tr "\\0" x; echo; echo tail-marker']);
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBeLessThanOrEqual(1024 * 1024);
    expect(r.stdout.endsWith('tail-marker\n')).toBe(true);
    await sbx.kill();
  });

  it('B6: open file descriptors are limited by RLIMIT_NOFILE', async () => {
    const sbx = await create();
    expect((await sh(sbx, 'ulimit -n; ulimit -Hn')).stdout).toBe('4096\n4096\n');
    for (const user of [undefined, 'user']) {
      const opened = await py(
        sbx,
        ['import os', 'fds = []', 'try:', '    while True: fds.append(os.open("/dev/null", os.O_RDONLY))', 'except OSError as e: print(len(fds), e.errno)'],
        user,
      );
      const [count, errno] = opened.stdout.trim().split(' ').map(Number);
      expect(count).toBeLessThan(4096);
      expect(errno).toBe(24);
      // Raising the hard limit is refused, as root too.
      expect((await sh(sbx, 'ulimit -Hn 100000 2>&1; echo rc=$?', user)).stdout).toMatch(/rc=[12]/);
    }
    await sbx.kill();
  });

  it('B7: a sandbox whose processes ignore SIGTERM is still killed at its timeout', async () => {
    const sbx = await create({ timeoutMs: 3000 });
    await sbx.commands.start(['sh', '-c', "trap '' TERM; while true; do sleep 1; done"]);
    const pids = hostFootprint(daemon.stateDir, sbx.id).pids;
    expect(pids.length).toBeGreaterThan(1);
    await expect.poll(async () => (await sbx.getInfo()).state, { timeout: 10_000, interval: 200 }).toBe('killed');
    expect((await sbx.getInfo()).endReason).toBe('timeout');
    await expect.poll(() => pids.filter(processAlive), { timeout: 5000 }).toEqual([]);
  });

  it('B8: setsid, double fork and nohup all die with the sandbox; nothing is left on the host', async () => {
    const sbx = await create();
    await sbx.commands.run(['sh', '-c', 'setsid sleep 1000 & nohup sh -c "sleep 1000 &" >/dev/null 2>&1 & (sleep 1000 &) ; exit 0']);
    const footprint = hostFootprint(daemon.stateDir, sbx.id);
    expect(footprint.pids.length).toBeGreaterThanOrEqual(tier === 'container' ? 5 : 2);
    expect(footprint.mounts.length).toBeGreaterThan(0);
    await sbx.kill();
    expect(footprint.pids.filter(processAlive)).toEqual([]);
    expect(hostFootprint(daemon.stateDir, sbx.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [] });
  });
});

describe('a full process table (container tier)', () => {
  // Under gVisor, processes are the sandbox kernel's own and the host pids limit
  // bounds its threads instead (see B1); this reply is the container tier's.
  it('B9: answers a command with resource_exhausted when no process can be made', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier: 'container', limits: { pids: 8 } });
    await sbx.commands.start([
      'python3',
      '-c',
      [
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
      ].join('\n'),
    ]);
    // Forks until the kernel refuses one: the process table is then full.
    await expect.poll(() => forksRefused(daemon.stateDir, sbx.id), { timeout: 10_000, interval: 100 }).toBeGreaterThan(0);
    await expect(sbx.commands.run(['true'])).rejects.toMatchObject({ code: 'resource_exhausted', status: 503 });
    await sbx.kill();
  });
});
