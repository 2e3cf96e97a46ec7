import { existsSync, readdirSync, rmSync } from 'node:fs';
import { Sandbox, Templates } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { probeTiers, sh } from '../security/probe-kit.js';
import { hostFootprint } from '../testing/host-probe.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// Snapshots and forks: exact file trees (new, changed and deleted files,
// modes, owners, symlinks), the original untouched, survival of a restart.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

/**
 * A hash of every path, type, mode, owner, link target and content under the
 * given roots; /etc/hosts and /etc/hostname name each sandbox and are its own.
 */
async function treeHash(sbx: Sandbox): Promise<string> {
  const own = '-path etc/hosts -prune -o -path etc/hostname -prune -o -path etc/ld.so.preload -prune -o';
  const r = await sh(
    sbx,
    `cd / && { find work etc home/user -xdev ${own} -printf '%p %y %m %U %G %l\\n' | sort; find work etc home/user -xdev ${own} -type f -exec sha256sum {} + | sort; } | sha256sum`,
  );
  expect(r.exitCode).toBe(0);
  return r.stdout.split(' ')[0] as string;
}

/** Changes of every kind: new, changed and removed files (a template file too), modes, owners, links. */
const mutate = [
  'mkdir -p /work/src/deep && echo one > /work/src/deep/a.txt',
  'printf "\\x00\\x01binary" > /work/bin.dat',
  'ln -s src/deep/a.txt /work/link',
  'chmod 0750 /work/src && chmod 0604 /work/bin.dat',
  'echo mine > /home/user/note && chown user:user /home/user/note',
  'rm /etc/motd',
  'echo changed >> /etc/issue',
].join(' && ');

const layerCount = () => readdirSync(`${daemon.stateDir}/layers`).length;

describe.each(probeTiers)('snapshots and forks on the %s tier', (tier) => {
  it('a snapshot is a template with exactly the sandbox’s files; the sandbox goes on', async () => {
    const source = await Sandbox.create({ ...daemon.conn, tier });
    expect((await sh(source, mutate)).exitCode).toBe(0);
    const sleeper = await source.commands.start(['sleep', '300']);
    const before = await treeHash(source);
    const template = await source.snapshot({ name: `snap-${tier}` });
    expect(template).toMatchObject({ name: `snap-${tier}`, parent: 'base', kind: 'snapshot' });
    expect(template.sizeBytes).toBeGreaterThan(0);
    // The source is running again, with its processes.
    expect((await sh(source, 'kill -0 $(pgrep -x sleep) && echo alive')).stdout).toBe('alive\n');
    await sleeper.kill();
    const copy = await Sandbox.create({ ...daemon.conn, tier, template: `snap-${tier}` });
    expect(await treeHash(copy)).toBe(before);
    expect((await sh(copy, 'test -e /etc/motd || echo gone; readlink /work/link; stat -c "%a %U" /work/src /home/user/note')).stdout).toBe(
      'gone\nsrc/deep/a.txt\n750 root\n644 user\n',
    );
    await Promise.all([source.kill(), copy.kill()]);
    await Templates.remove(`snap-${tier}`, daemon.conn);
  });

  it('a fork has the same files; fork and original then change apart; the fork’s layer goes with it', async () => {
    const layersBefore = layerCount();
    const source = await Sandbox.create({ ...daemon.conn, tier, metadata: { task: 'forked' } });
    expect((await sh(source, mutate)).exitCode).toBe(0);
    const before = await treeHash(source);
    const fork = await source.fork();
    expect(fork.id).not.toBe(source.id);
    expect(fork.tier).toBe(tier);
    expect(fork.lastKnown.metadata).toEqual({ task: 'forked' });
    expect(await treeHash(fork)).toBe(before);
    await fork.files.write('/work/only-in-fork', 'f');
    await source.files.write('/work/only-in-source', 's');
    expect(await source.files.exists('/work/only-in-fork')).toBe(false);
    expect(await fork.files.exists('/work/only-in-source')).toBe(false);
    expect((await Templates.list(daemon.conn)).map((t) => t.name).filter((n) => n.startsWith('fork-'))).toEqual([]);
    await fork.kill();
    await source.kill();
    expect(layerCount()).toBe(layersBefore);
  });
});

describe.each(probeTiers)('checkpoints on the %s tier', (tier) => {
  it('roll back new, changed and deleted files exactly; processes restart; the sandbox keeps its id', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    await sh(sbx, 'mkdir -p /work/keep && echo v1 > /work/keep/file && ln -s keep/file /work/cplink && chmod 640 /work/keep/file');
    const atCheckpoint = await treeHash(sbx);
    const cp = await sbx.checkpoint();
    expect(cp).toMatchObject({ id: expect.stringMatching(/^cp_/), sandboxId: sbx.id });
    // What an agent might do next: change, add, delete, re-mode, relink, and delete a template file.
    expect((await sh(sbx, `${mutate} && echo v2 > /work/keep/file && chmod 777 /work/keep && rm /work/cplink && ln -s /etc /work/cplink`)).exitCode).toBe(0);
    await sbx.commands.start(['sleep', '300']);
    expect(await treeHash(sbx)).not.toBe(atCheckpoint);
    await sbx.rollback(cp);
    expect(await treeHash(sbx)).toBe(atCheckpoint);
    expect((await sh(sbx, 'cat /work/keep/file; test -e /etc/motd && echo motd-back; pgrep -x sleep || echo no-sleep; hostname')).stdout).toBe(
      `v1\nmotd-back\nno-sleep\n${sbx.id}\n`,
    );
    // Again, from a different state, to the same checkpoint.
    await sh(sbx, 'rm -rf /work/keep; echo other > /work/new');
    await sbx.rollback(cp.id);
    expect(await treeHash(sbx)).toBe(atCheckpoint);
    expect((await sbx.checkpoints()).map((c) => c.id)).toEqual([cp.id]);
    await expect(sbx.rollback('cp_000000000000')).rejects.toMatchObject({ status: 404, code: 'checkpoint_not_found' });
    expect((await sbx.commands.run(['echo', 'still works'])).stdout).toBe('still works\n');
    await sbx.kill();
  });

  it('a rollback under running commands keeps the sandbox: their connections closing with its container is no death', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    const cp = await sbx.checkpoint();
    // Each background command's connection closes as the rollback stops the container; the daemon
    // asked the runtime then, found no container, and tore the sandbox down under the restart.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 8; i++) await sbx.commands.start(['sleep', '300']);
      await sbx.rollback(cp);
      expect((await sbx.commands.run(['echo', `round ${round}`])).stdout).toBe(`round ${round}\n`);
    }
    expect((await sbx.getInfo()).state).toBe('running');
    // Two rollbacks at once: one goes ahead, the other is refused (both ran the restart's steps interleaved).
    const outcomes = await Promise.allSettled([sbx.rollback(cp), sbx.rollback(cp)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { status: 409, code: 'conflict' } });
    expect((await sbx.commands.run(['echo', 'after both'])).stdout).toBe('after both\n');
    await sbx.kill();
  });

  it('B10: a rollback holds its sandbox alone; a kill under it waits for it and leaves nothing on the host', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier, limits: { memoryMiB: 1024 } });
    // Files enough that the restart's copy takes a while (its writable layer is in memory: hence the limit).
    expect((await sh(sbx, 'head -c 400M /dev/zero > /work/big')).exitCode).toBe(0);
    const cp = await sbx.checkpoint();
    const rollback = sbx.rollback(cp).then(
      () => 'rolled back',
      (err: unknown) => err,
    );
    // Its container gone: the restart is under way.
    await vi.waitFor(() => expect(hostFootprint(daemon.stateDir, sbx.id).runtimeRecords).toEqual([]), { timeout: 30_000, interval: 2 });
    // Each of these would find the container gone or coming back under it (a snapshot, say, resumed it).
    for (const attempt of [() => sbx.snapshot({ name: `under-rollback-${tier}` }), () => sbx.fork(), () => sbx.checkpoint(), () => sbx.pause()]) {
      await expect(attempt()).rejects.toMatchObject({ status: 409, code: 'conflict' });
    }
    // Torn down while the rollback ran, the rollback then started its container again: left on the host.
    await sbx.kill();
    expect(await rollback).toMatchObject({ status: 404 });
    expect(hostFootprint(daemon.stateDir, sbx.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
    expect((await sbx.getInfo()).endReason).toBe('killed');
  });

  it('B10: a rollback that fails ends the sandbox, says so, and leaves nothing on the host', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    const cp = await sbx.checkpoint();
    // The checkpoint's files lost on the host (a disk fault, say): the restart finds nothing to copy.
    rmSync(`${daemon.stateDir}/sandboxes/${sbx.id}/checkpoints/${cp.id}/rootfs`, { recursive: true });
    await expect(sbx.rollback(cp)).rejects.toMatchObject({ status: 500 });
    expect(await sbx.getInfo()).toMatchObject({ state: 'killed', endReason: 'rollback_failed' });
    await expect(sbx.commands.run(['true'])).rejects.toThrow(/failed to start again in a rollback and no longer exists/);
    expect(hostFootprint(daemon.stateDir, sbx.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
  });

  it('B10: a kill during a copy of the sandbox’s files stops the copy and leaves nothing on the host', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    expect((await sh(sbx, 'head -c 200M /dev/urandom > /work/big')).exitCode).toBe(0);
    const checkpoints = `${daemon.stateDir}/sandboxes/${sbx.id}/checkpoints`;
    const checkpoint = sbx.checkpoint().then(
      () => 'taken',
      (err: unknown) => err,
    );
    // Its folder made: the copy is under way.
    await vi.waitFor(() => expect(existsSync(checkpoints) && readdirSync(checkpoints).length > 0).toBe(true), { timeout: 30_000, interval: 2 });
    // A teardown under the copy used to let the copy make the sandbox's folder again.
    await sbx.kill();
    expect(await checkpoint).toMatchObject({ status: 404 });
    expect(hostFootprint(daemon.stateDir, sbx.id)).toEqual({ mounts: [], cgroupDirs: [], dirExists: false, pids: [], runtimeRecords: [] });
  });

  it('a copy of a sandbox’s files holds it alone: no rollback or pause meanwhile', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    const cp = await sbx.checkpoint();
    expect((await sh(sbx, 'head -c 200M /dev/urandom > /work/big')).exitCode).toBe(0);
    const layersBefore = layerCount();
    const snapshot = sbx.snapshot({ name: `busy-${tier}` });
    // Its layer's folder made: the copy is under way.
    await vi.waitFor(() => expect(layerCount()).toBeGreaterThan(layersBefore), { timeout: 30_000, interval: 2 });
    await expect(sbx.rollback(cp)).rejects.toMatchObject({ status: 409, code: 'conflict' });
    // A pause now would be undone by the copy's end, the sandbox running while it reads paused.
    await expect(sbx.pause()).rejects.toMatchObject({ status: 409, code: 'conflict' });
    expect(await snapshot).toMatchObject({ name: `busy-${tier}`, kind: 'snapshot' });
    await sbx.pause();
    expect((await sbx.getInfo()).state).toBe('paused');
    await sbx.resume();
    expect((await sh(sbx, 'stat -c %s /work/big')).stdout).toBe('209715200\n');
    await sbx.kill();
    await Templates.remove(`busy-${tier}`, daemon.conn);
  });
});

describe('snapshots', () => {
  it('survive a daemon restart and count against the tenant’s quota', async () => {
    const source = await Sandbox.create({ ...daemon.conn });
    await source.files.write('/work/kept.txt', 'across restarts');
    await source.snapshot({ name: 'kept' });
    await expect(source.snapshot({ name: 'kept' })).rejects.toMatchObject({ status: 409, code: 'template_exists' });
    await daemon.crash();
    await daemon.restart();
    const copy = await Sandbox.create({ ...daemon.conn, template: 'kept' });
    expect(await copy.files.read('/work/kept.txt')).toBe('across restarts');
    await copy.kill();
    const patch = await daemon.api('/v1/tenants/default', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"maxSnapshots":1}' });
    expect(patch.status).toBe(200);
    const again = await Sandbox.connect(source.id, daemon.conn);
    await expect(again.snapshot({ name: 'one-too-many' })).rejects.toMatchObject({ status: 429, code: 'quota_exceeded', details: { quota: 'maxSnapshots' } });
    await again.kill();
    await daemon.api('/v1/tenants/default', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"maxSnapshots":null}' });
    // A budget in MiB: a snapshot that would go over it is refused, and not kept.
    const big = await Sandbox.create({ ...daemon.conn });
    await big.commands.run(['sh', '-c', 'head -c 3000000 /dev/urandom > /work/blob']);
    await daemon.api('/v1/tenants/default', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"maxSnapshotMiB":2}' });
    await expect(big.snapshot({ name: 'too-big' })).rejects.toMatchObject({ status: 429, details: { quota: 'maxSnapshotMiB', limit: 2 } });
    await expect(Templates.get('too-big', daemon.conn)).rejects.toMatchObject({ status: 404 });
    await daemon.api('/v1/tenants/default', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"maxSnapshotMiB":null}' });
    await big.kill();
    await Templates.remove('kept', daemon.conn);
  });
});

describe('a snapshot holds its tenant’s files', () => {
  it('is invisible and unusable to other tenants (D2)', async () => {
    const post = (path: string, body: unknown, token = daemon.token) =>
      fetch(`${daemon.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const name of ['snap-red', 'snap-blue']) expect((await post('/v1/tenants', { name })).status).toBe(201);
    const tokenOf = async (tenant: string) => ((await (await post('/v1/tokens', { tenant, role: 'operator' })).json()) as { token: string }).token;
    const red = { url: daemon.url, token: await tokenOf('snap-red') };
    const blue = { url: daemon.url, token: await tokenOf('snap-blue') };
    const source = await Sandbox.create({ ...red });
    await source.files.write('/work/red-secret', 'red only');
    await source.snapshot({ name: 'red-snap' });
    expect((await Templates.list(red)).map((t) => t.name)).toContain('red-snap');
    expect((await Templates.list(blue)).map((t) => t.name)).not.toContain('red-snap');
    await expect(Templates.get('red-snap', blue)).rejects.toMatchObject({ status: 404 });
    await expect(Sandbox.create({ ...blue, template: 'red-snap' })).rejects.toMatchObject({ status: 404, code: 'template_not_found' });
    const build = await post('/v1/templates', { name: 'blue-on-red', paddockfile: 'FROM red-snap\nRUN true\n' }, blue.token);
    expect(build.status).toBe(404);
    await expect(Templates.remove('red-snap', blue)).rejects.toMatchObject({ status: 404 });
    const mine = await Sandbox.create({ ...red, template: 'red-snap' });
    expect(await mine.files.read('/work/red-secret')).toBe('red only');
    await Promise.all([mine.kill(), source.kill()]);
    await Templates.remove('red-snap', red);
  });
});

describe('garbage collection', () => {
  it('removes layers nothing uses, never one in use', async () => {
    const { mkdirSync, existsSync, writeFileSync } = await import('node:fs');
    const stray = `${daemon.stateDir}/layers/l-deadbeefdeadbeef`;
    mkdirSync(`${stray}/rootfs`, { recursive: true });
    writeFileSync(`${stray}/rootfs/junk`, 'left by a build cut short');
    // Old enough not to be a build in flight.
    const { utimesSync } = await import('node:fs');
    const longAgo = new Date(Date.now() - 3_600_000);
    utimesSync(stray, longAgo, longAgo);
    const young = `${daemon.stateDir}/layers/l-0123456789abcdef`;
    mkdirSync(`${young}/rootfs`, { recursive: true });
    const source = await Sandbox.create({ ...daemon.conn });
    await source.files.write('/work/used.txt', 'in use');
    await source.snapshot({ name: 'in-use' });
    const user = await Sandbox.create({ ...daemon.conn, template: 'in-use' });
    const fork = await source.fork();
    const gc = await daemon.api('/v1/gc', { method: 'POST' });
    expect(gc.status).toBe(200);
    const body = (await gc.json()) as { removedLayers: string[]; removedForkLayers: string[] };
    expect(body.removedLayers).toEqual(['l-deadbeefdeadbeef']);
    expect(body.removedForkLayers).toEqual([]);
    expect(existsSync(stray)).toBe(false);
    // One being written right now (as far as gc can tell) stays.
    expect(existsSync(young)).toBe(true);
    // Everything in use still works.
    expect(await user.files.read('/work/used.txt')).toBe('in use');
    expect(await fork.files.read('/work/used.txt')).toBe('in use');
    const again = await Sandbox.create({ ...daemon.conn, template: 'in-use' });
    expect(await again.files.read('/work/used.txt')).toBe('in use');
    await Promise.all([source, user, fork, again].map((s) => s.kill()));
    await Templates.remove('in-use', daemon.conn);
  });
});
