import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { spareNamespacesFolder } from '@paddock/engine';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeTiers, sh } from '../security/probe-kit.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// Disk-backed writable layers: a sandbox's writable layer as an ext4 image on
// a loop device instead of a tmpfs. Its size is the kernel's limit, it is no
// memory, its files go through snapshots, forks and rollbacks exactly, and
// nothing of it (mount, loop device, image) outlives the sandbox.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

const mib = 1024 * 1024;
const sandboxesDir = () => `${daemon.stateDir}/sandboxes`;

/** This daemon's sandboxes' loop devices, as `losetup` lists them: "device backing-file". */
function layerLoops(): string[] {
  const out = execFileSync('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' }).trim();
  const devices = (JSON.parse(out || '{"loopdevices":[]}') as { loopdevices: Array<{ name: string; 'back-file': string | null }> }).loopdevices;
  return devices.filter((d) => d['back-file']?.startsWith(`${sandboxesDir()}/`)).map((d) => `${d.name} ${d['back-file']}`);
}

/** The host's mounts below the sandboxes' folder (the spare network namespaces aside), as /proc/self/mountinfo lines. */
function layerMounts(id = ''): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(
      (line) => line.split(' ')[4]?.startsWith(`${sandboxesDir()}/${id}`) && !line.split(' ')[4]?.startsWith(`${sandboxesDir()}/${spareNamespacesFolder}/`),
    );
}

/** The sandboxes' folders on the host (the spare network namespaces' folder is the host's own). */
const sandboxFolders = () => readdirSync(sandboxesDir()).filter((name) => name !== spareNamespacesFolder);

/** A sandbox's writable layer's file system as the host mounted it: "type source options". */
function scratchMount(id: string): string | undefined {
  const line = layerMounts(id).find((l) => l.split(' ')[4] === `${sandboxesDir()}/${id}/scratch`);
  if (!line) return undefined;
  const [mountOptions, rest] = line.split(' - ') as [string, string];
  return `${rest.split(' ').slice(0, 2).join(' ')} ${mountOptions.split(' ')[5]}`;
}

/**
 * A hash of every path, type, mode, owner, link target and content of the
 * writable layer's usual places; /etc/hosts and /etc/hostname name each
 * sandbox and are its own.
 */
async function treeHash(sbx: Sandbox): Promise<string> {
  const own = '-path etc/hosts -prune -o -path etc/hostname -prune -o -path etc/ld.so.preload -prune -o';
  const roots = 'work etc home/user root tmp';
  const r = await sh(
    sbx,
    `cd / && { find ${roots} -xdev ${own} -printf '%p %y %m %U %G %l\\n' | sort; find ${roots} -xdev ${own} -type f -exec sha256sum {} + | sort; } | sha256sum`,
  );
  expect(r.exitCode).toBe(0);
  return r.stdout.split(' ')[0] as string;
}

/** Changes of every kind: new, changed and removed files (template files too), modes, owners, links, a large file. */
const mutate = [
  'mkdir -p /work/src/deep && echo one > /work/src/deep/a.txt',
  'printf "\\x00\\x01binary" > /work/bin.dat',
  'ln -s src/deep/a.txt /work/link',
  'chmod 0750 /work/src && chmod 0604 /work/bin.dat',
  'echo mine > /home/user/note && chown user:user /home/user/note',
  'head -c 20000000 /dev/urandom > /tmp/big',
  'rm /etc/motd',
  'echo changed >> /etc/issue',
].join(' && ');

describe.each(probeTiers)('disk-backed writable layers on the %s tier', (tier) => {
  it('V12: a disk-backed sandbox writes 2 GB with a 256 MiB memory limit and is not OOM-killed; its layer is an ext4 file system on a loop device', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier, writableLayer: 'disk', limits: { memoryMiB: 256, diskMiB: 2560 } });
    expect(sbx.lastKnown.writableLayer).toBe('disk');
    expect(scratchMount(sbx.id)).toMatch(/^ext4 \/dev\/loop\d+ /);
    const r = await sh(sbx, 'dd if=/dev/zero of=/tmp/big bs=1M count=2048 2>&1 && sync && stat -c %s /tmp/big');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/\n2147483648\n$/);
    expect((await sh(sbx, 'echo alive; ls -l /tmp/big | wc -l')).stdout).toBe('alive\n1\n');
    expect((await sbx.getInfo()).state).toBe('running');
    await sbx.kill();
  });

  it('V13: writing past diskMiB fails with ENOSPC inside; the host keeps exactly diskMiB for it and the daemon stays healthy', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier, writableLayer: 'disk', limits: { diskMiB: 64 } });
    const r = await sh(sbx, 'dd if=/dev/zero of=/tmp/fill bs=1M count=128 2>&1; echo "exit $?"', 'user');
    expect(r.stdout).toMatch(/No space left on device/);
    expect(r.stdout).toMatch(/exit 1/);
    expect(Number((await sh(sbx, 'stat -c %s /tmp/fill')).stdout)).toBeLessThan(64 * mib);
    // The image is reserved on the host's disk at its size, and grows no further.
    const image = statSync(`${sandboxesDir()}/${sbx.id}/layer.img`);
    expect(image.size).toBe(64 * mib);
    // (Plus the few blocks that map it.)
    expect(image.blocks * 512).toBeLessThanOrEqual(65 * mib);
    expect((await daemon.api('/v1/health')).status).toBe(200);
    expect((await sh(sbx, 'rm /tmp/fill && echo room again > /tmp/x && cat /tmp/x', 'user')).stdout).toBe('room again\n');
    await sbx.kill();
  });

  it('V14: setuid and device files, links to host paths and FIFOs made in a disk-backed layer are harmless (nosuid,nodev on the host and inside; copied, never followed); the sandbox sees no host path', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier, writableLayer: 'disk', limits: { diskMiB: 64 } });
    // Root of the sandbox makes a setuid-root copy of id; the user runs it and stays the user.
    expect((await sh(sbx, 'cp /usr/bin/id /tmp/suid-id && chmod 4755 /tmp/suid-id && stat -c %a /tmp/suid-id')).stdout).toBe('4755\n');
    expect((await sh(sbx, '/tmp/suid-id -u', 'user')).stdout).toBe('1000\n');
    // No device node can be made, and none would open.
    const dev = await sh(sbx, 'mknod /tmp/mem c 1 1 2>&1; head -c1 /tmp/mem 2>&1; echo done');
    expect(dev.stdout).toMatch(/done/);
    expect(dev.stdout).not.toMatch(/^.\ndone/);
    // On the host, the layer's file system and the root above it are nosuid and nodev.
    const [, , hostOptions] = (scratchMount(sbx.id) ?? '').split(' ');
    expect(hostOptions?.split(',')).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
    const rootfsLine = layerMounts(sbx.id).find((l) => l.split(' ')[4] === `${sandboxesDir()}/${sbx.id}/rootfs`) ?? '';
    expect(rootfsLine.split(' ')[5]?.split(',')).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
    // The sandbox learns neither the image's path nor the state folder's.
    const view = await sh(sbx, 'cat /proc/self/mountinfo /proc/self/mounts; cat /sys/block/loop*/loop/backing_file 2>/dev/null; true', 'user');
    expect(view.stdout).not.toContain(daemon.stateDir);
    expect(view.stdout).not.toContain('layer.img');
    // Links to host paths and a FIFO in the layer: a checkpoint copies them as they are (nothing followed or opened), a rollback puts them back.
    const shadow = statSync('/etc/shadow');
    expect((await sh(sbx, 'ln -s /etc/shadow /tmp/shadow && ln -s / /tmp/root && mkfifo /tmp/fifo')).exitCode).toBe(0);
    const cp = await sbx.checkpoint();
    await sh(sbx, 'rm /tmp/shadow /tmp/root /tmp/fifo');
    await sbx.rollback(cp);
    // gVisor keeps a FIFO in its own kernel (its gofer makes none on the host): a checkpoint has none to copy, on either kind of layer.
    const fifo = tier === 'container' ? 'fifo\n' : '';
    expect((await sh(sbx, 'readlink /tmp/shadow /tmp/root; test -p /tmp/fifo && echo fifo')).stdout).toBe(`/etc/shadow\n/\n${fifo}`);
    expect(statSync('/etc/shadow')).toMatchObject({ size: shadow.size, mtimeMs: shadow.mtimeMs, mode: shadow.mode });
    await sbx.kill();
  });

  it('rollback, pause-resume, snapshot and fork are exact on a disk-backed layer (tree hash); a fork is disk-backed and independent of its parent', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier, writableLayer: 'disk', limits: { diskMiB: 256 } });
    expect((await sh(sbx, 'mkdir -p /work/keep && echo v1 > /work/keep/file && ln -s keep/file /work/cplink && chmod 640 /work/keep/file')).exitCode).toBe(0);
    const atCheckpoint = await treeHash(sbx);
    const cp = await sbx.checkpoint();
    expect((await sh(sbx, `${mutate} && echo v2 > /work/keep/file && chmod 777 /work/keep && rm /work/cplink && ln -s /etc /work/cplink`)).exitCode).toBe(0);
    const mutated = await treeHash(sbx);
    expect(mutated).not.toBe(atCheckpoint);
    await sbx.rollback(cp);
    expect(await treeHash(sbx)).toBe(atCheckpoint);
    // Still the same disk-backed layer (one loop device), now holding the checkpoint's files.
    expect(scratchMount(sbx.id)).toMatch(/^ext4 \/dev\/loop\d+ /);
    expect(layerLoops().filter((l) => l.includes(`/${sbx.id}/`))).toHaveLength(1);
    expect((await sh(sbx, `${mutate}`)).exitCode).toBe(0);
    const before = await treeHash(sbx);
    await sbx.pause();
    await sbx.resume();
    expect(await treeHash(sbx)).toBe(before);
    const fork = await sbx.fork();
    expect(fork.lastKnown.writableLayer).toBe('disk');
    expect(scratchMount(fork.id)).toMatch(/^ext4 \/dev\/loop\d+ /);
    expect(await treeHash(fork)).toBe(before);
    await fork.files.write('/work/only-in-fork', 'f');
    await sh(fork, 'rm /tmp/big');
    await sbx.files.write('/work/only-in-source', 's');
    expect(await sbx.files.exists('/work/only-in-fork')).toBe(false);
    expect(await sbx.files.exists('/tmp/big')).toBe(true);
    expect(await fork.files.exists('/work/only-in-source')).toBe(false);
    const snapshot = await sbx.snapshot({ name: `disk-snap-${tier}` });
    const copy = await Sandbox.create({ ...daemon.conn, tier, template: snapshot.name, writableLayer: 'disk', limits: { diskMiB: 256 } });
    expect(await treeHash(copy)).toBe(await treeHash(sbx));
    await Promise.all([fork.kill(), sbx.kill(), copy.kill()]);
    for (const id of [sbx.id, fork.id, copy.id]) {
      expect(layerLoops().filter((l) => l.includes(`/${id}/`))).toEqual([]);
      expect(layerMounts(id)).toEqual([]);
    }
  });
});

describe('disk-backed layers across kills and daemon restarts', () => {
  it('V15: no loop device, mount or image is left after a kill, a sandbox lost while the daemon was down, a kill -9 of the daemon, or a create it died in', async () => {
    const killed = await Sandbox.create({ ...daemon.conn, writableLayer: 'disk', limits: { diskMiB: 64 } });
    expect(layerLoops().filter((l) => l.includes(`/${killed.id}/`))).toHaveLength(1);
    await killed.kill();
    expect(layerLoops().filter((l) => l.includes(`/${killed.id}/`))).toEqual([]);
    expect(layerMounts(killed.id)).toEqual([]);
    expect(existsSync(`${sandboxesDir()}/${killed.id}`)).toBe(false);

    const kept = await Sandbox.create({ ...daemon.conn, writableLayer: 'disk', limits: { diskMiB: 64 } });
    const lost = await Sandbox.create({ ...daemon.conn, writableLayer: 'disk', limits: { diskMiB: 64 } });
    await sh(kept, 'echo before > /work/before && sync');
    await daemon.crash();
    // While the daemon is down, one sandbox dies behind its back.
    execFileSync('runc', ['--root', `${daemon.stateDir}/runc`, 'kill', lost.id, 'KILL']);
    // And a create the daemon died in left a folder with a mounted layer that no record names.
    const half = `${sandboxesDir()}/sb-000000000000`;
    mkdirSync(`${half}/scratch`, { recursive: true });
    writeFileSync(`${half}/layer.img`, '');
    execFileSync('truncate', ['-s', '32M', `${half}/layer.img`]);
    execFileSync('mkfs.ext4', ['-q', '-F', `${half}/layer.img`]);
    execFileSync('mount', ['-o', 'loop,nosuid,nodev', `${half}/layer.img`, `${half}/scratch`]);
    expect(layerLoops()).toHaveLength(3);
    await daemon.restart();
    // The running one is adopted with its layer; the lost one and the half-made one leave nothing.
    const adopted = await Sandbox.connect(kept.id, daemon.conn);
    expect((await sh(adopted, 'cat /work/before && echo after > /work/after && cat /work/after')).stdout).toBe('before\nafter\n');
    await expect(Sandbox.connect(lost.id, daemon.conn)).rejects.toMatchObject({ status: 404 });
    expect(layerLoops().map((l) => l.split('/').at(-2))).toEqual([kept.id]);
    expect(existsSync(half)).toBe(false);
    expect(existsSync(`${sandboxesDir()}/${lost.id}`)).toBe(false);
    await adopted.kill();
    expect(layerLoops()).toEqual([]);
    expect(layerMounts()).toEqual([]);
    expect(sandboxFolders()).toEqual([]);
  });

  it('V16: a disk-backed layer larger than the host’s free disk is refused (400 exceeds_host_capacity) before anything is reserved, and leaves nothing', async () => {
    const disk = statfsSync(sandboxesDir());
    const free = Math.floor((disk.bavail * disk.bsize) / mib);
    const total = Math.floor((disk.blocks * disk.bsize) / mib);
    // Halfway between what is free and the disk's size: the host capacity check lets it by, the reservation may not
    // (with room to spare for other writers freeing space meanwhile).
    const requested = free + Math.floor((total - free) / 2);
    expect(requested - free).toBeGreaterThan(1024);
    await expect(Sandbox.create({ ...daemon.conn, writableLayer: 'disk', limits: { diskMiB: requested } })).rejects.toMatchObject({
      status: 400,
      code: 'exceeds_host_capacity',
    });
    expect(sandboxFolders()).toEqual([]);
    expect(layerLoops()).toEqual([]);
    expect(existsSync(`${daemon.stateDir}/layer-blanks/${requested}.img`)).toBe(false);
  });
});
