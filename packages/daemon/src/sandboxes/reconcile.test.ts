import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { mountsUnder, sandboxPaths, spareNamespacesFolder } from '@paddock/engine';
import { Sandbox, SandboxNotFoundError } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostFootprint, processAlive } from '../testing/host-probe.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

describe('daemon crash and restart', () => {
  it('adopts live sandboxes, cleans dead ones and leaks nothing after kill -9', async () => {
    const survivor = await Sandbox.create({ ...daemon.conn, metadata: { role: 'survivor' } });
    const victim = await Sandbox.create({ ...daemon.conn, metadata: { role: 'victim' } });
    await survivor.files.write('/work/state.txt', 'kept');
    const background = await survivor.commands.start(['sh', '-c', 'sleep 1000']);
    const forgotten = await Sandbox.create({ ...daemon.conn, metadata: { role: 'forgotten' } });
    const victimPids = hostFootprint(daemon.stateDir, victim.id).pids;
    const forgottenPids = hostFootprint(daemon.stateDir, forgotten.id).pids;
    expect(forgottenPids.length).toBeGreaterThan(0);

    await daemon.crash();
    // While the daemon is down, one sandbox dies behind its back, and the
    // runtime loses its record of another whose processes keep running.
    execFileSync('runc', ['--root', `${daemon.stateDir}/runc`, 'kill', victim.id, 'KILL']);
    rmSync(`${daemon.stateDir}/runc/${forgotten.id}`, { recursive: true, force: true });
    await expect.poll(() => victimPids.filter(processAlive), { timeout: 5000 }).toEqual([]);
    await daemon.restart();

    const adopted = await Sandbox.connect(survivor.id, daemon.conn);
    expect(await adopted.files.read('/work/state.txt')).toBe('kept');
    expect((await adopted.commands.run(['sh', '-c', 'pgrep -x sleep >/dev/null && echo running'])).stdout).toBe('running\n');
    expect(background.pid).toBeGreaterThan(0);

    await expect(Sandbox.connect(victim.id, daemon.conn)).rejects.toBeInstanceOf(SandboxNotFoundError);
    const info = await (await daemon.api(`/v1/sandboxes/${victim.id}`)).json();
    expect(info).toMatchObject({ state: 'killed', endReason: 'lost' });
    expect(hostFootprint(daemon.stateDir, victim.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
    // The stray processes are found through their cgroup and killed.
    expect(forgottenPids.filter(processAlive)).toEqual([]);
    expect(hostFootprint(daemon.stateDir, forgotten.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });

    await adopted.kill();
    expect(hostFootprint(daemon.stateDir, survivor.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
  });

  it('a kill while a host process holds the rootfs busy still unmounts and removes everything', async () => {
    const sbx = await Sandbox.create(daemon.conn);
    const { rootfs } = sandboxPaths(`${daemon.stateDir}/sandboxes`, sbx.id);
    const holder = spawn('sleep', ['30'], { cwd: rootfs, stdio: 'ignore' });
    try {
      await sbx.kill();
      expect(hostFootprint(daemon.stateDir, sbx.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
      expect(processAlive(holder.pid ?? 0)).toBe(true);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('spare network namespaces a killed daemon left are removed by the next start, which makes its own and takes none for a sandbox', async () => {
    const spares = `${daemon.stateDir}/sandboxes/${spareNamespacesFolder}`;
    // Two spares, each a namespace and its sysfs.
    await expect.poll(() => mountsUnder(spares).length, { timeout: 10_000 }).toBe(4);
    const left = readdirSync(spares);
    await daemon.crash();
    expect(mountsUnder(spares)).toHaveLength(4);
    await daemon.restart();
    await expect.poll(() => readdirSync(spares).filter((name) => left.includes(name)), { timeout: 10_000 }).toEqual([]);
    await expect.poll(() => mountsUnder(spares).length, { timeout: 10_000 }).toBe(4);
    expect(daemon.log()).not.toMatch(/"sandbox":"\.netns-spares"/);
    // A sandbox made now has a working namespace, taken from a spare.
    const sbx = await Sandbox.create(daemon.conn);
    try {
      expect(mountsUnder(`${daemon.stateDir}/sandboxes/${sbx.id}`)).toEqual(
        expect.arrayContaining([`${daemon.stateDir}/sandboxes/${sbx.id}/netns`, `${daemon.stateDir}/sandboxes/${sbx.id}/sys`]),
      );
      expect((await sbx.commands.run(['sh', '-c', 'echo up'])).stdout).toBe('up\n');
    } finally {
      await sbx.kill();
    }
    expect(hostFootprint(daemon.stateDir, sbx.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
  });

  it('removes layer folders of builds the daemon did not live to finish', async () => {
    const { mkdirSync, existsSync, writeFileSync } = await import('node:fs');
    const orphan = `${daemon.stateDir}/layers/l-0123456789abcdef`;
    mkdirSync(`${orphan}/rootfs/etc`, { recursive: true });
    writeFileSync(`${orphan}/rootfs/etc/half-built`, 'x');
    await daemon.crash();
    await daemon.restart();
    expect(existsSync(orphan)).toBe(false);
  });

  it('still expires adopted sandboxes at their deadline', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, timeoutMs: 4000 });
    await daemon.crash();
    await daemon.restart();
    // The restarted daemon listens on a new port: ask it directly.
    const info = async () => (await daemon.api(`/v1/sandboxes/${sbx.id}`)).json();
    await expect.poll(async () => (await info()).state, { timeout: 15_000, interval: 250 }).toBe('killed');
    expect((await info()).endReason).toBe('timeout');
  });
});
