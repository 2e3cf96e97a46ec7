import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentProcessCount, cgroupCpuSeconds, forksRefused, hostFootprint, processAlive } from '../testing/host-probe.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { probeRun, probeTiers, sh } from './probe-kit.js';

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
  // B2, B4, B5 and B6 run the catalogue's probes (@paddock/sdk/probes), as `paddock check --probes` does;
  // the others measure on the host what no probe inside can see.
  const probes = probeRun(() => daemon.conn, tier);
  afterAll(() => probes.close());

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
    await probes.expectHeld('B2');
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
    await probes.expectHeld('B4');
    // The agent's folder lives on the same bounded layer, not on the host's disk.
    const sbx = await create({ limits: { diskMiB: 32 } });
    const side = await sh(sbx, 'dd if=/dev/zero of=/.paddock/run/fill bs=1M count=100 2>&1; echo rc=$?');
    expect(side.stdout).toMatch(tier === 'container' ? /No space left on device/ : /(No space left on device|Operation not permitted|Permission denied)/);
    await sbx.kill();
  });

  it('B5: endless output keeps the daemon’s memory bounded and says it truncated', async () => {
    await probes.expectHeld('B5');
  });

  it('B6: open file descriptors are limited by RLIMIT_NOFILE', async () => {
    await probes.expectHeld('B6');
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
    expect(hostFootprint(daemon.stateDir, sbx.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
  });
});

describe('a full process table (container tier)', () => {
  // Under gVisor, processes are the sandbox kernel's own and the host pids limit
  // bounds its threads instead (see B1); this reply is the container tier's.
  // Both when the call's connection is made then (the agent's fork for it fails) and when the daemon opened it
  // ahead, after an earlier call (its handler waits, forked, and the command's own process is what cannot be made).
  it.each([false, true])('B9: answers a command with resource_exhausted when no process can be made (a handler already waiting: %s)', async (waiting) => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier: 'container', limits: { pids: 8 } });
    await sbx.commands.start([
      'python3',
      '-c',
      [
        'import os, time',
        ...(waiting ? ['while not os.path.exists("/tmp/go"): time.sleep(0.02)', 'time.sleep(1.5)'] : []),
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
    if (waiting) {
      // A call that ends: the daemon then opens the next call's connection, and the agent forks its handler.
      await sbx.files.write('/tmp/go', '');
      // tini aside: the agent, the fork bomb's handler and the one waiting.
      await expect.poll(() => agentProcessCount(daemon.stateDir, sbx.id), { timeout: 1000, interval: 50 }).toBe(3);
    }
    // Forks until the kernel refuses one: the process table is then full.
    await expect.poll(() => forksRefused(daemon.stateDir, sbx.id), { timeout: 10_000, interval: 100 }).toBeGreaterThan(0);
    const refused = await sbx.commands.run(['true']).catch((err: Error & { code?: string; status?: number }) => err);
    expect(refused).toMatchObject({ code: 'resource_exhausted', status: 503 });
    // Which process could not be made: the call's handler (the agent's accept loop says so), or its command.
    if (waiting) expect((refused as Error).message).not.toMatch(/process limit/);
    else expect((refused as Error).message).toMatch(/process limit/);
    await sbx.kill();
  });
});
