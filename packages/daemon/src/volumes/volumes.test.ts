import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Sandbox, Templates, Volumes } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeTiers, sh } from '../security/probe-kit.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// Section V: volumes, file systems of a tenant's that outlive sandboxes, as
// sandboxes, the file API and other tenants see them.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

async function tenantConn(name: string, quotas: Record<string, number> = {}) {
  const post = (path: string, body: unknown) =>
    daemon.api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
  await post('/v1/tenants', { name, ...quotas });
  const created = (await post('/v1/tokens', { tenant: name, role: 'agent', name: `agent of ${name}` })) as { token: string };
  return { url: daemon.url, token: created.token };
}

/** The host's view of a volume's mount: its options, from the daemon's mount table. */
function hostMountOptions(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.split(' ')[4]?.startsWith(`${daemon.stateDir}/volumes/`));
}

describe('volumes', () => {
  it('V1: are created, listed, inspected and removed; another tenant gets 404 for each, and may have its own by the same name', async () => {
    const repo = await Volumes.create({ ...daemon.conn, name: 'v1-repo', sizeMiB: 64 });
    expect(repo.info).toMatchObject({ name: 'v1-repo', sizeMiB: 64, mounts: [] });
    expect(repo.info.usedBytes).toBeGreaterThan(0);
    expect((await Volumes.list(daemon.conn)).map((v) => v.name)).toContain('v1-repo');
    await repo.files.write('/notes/a.txt', 'kept');
    const other = await tenantConn('v1-other');
    expect(await Volumes.list(other)).toEqual([]);
    await expect(Volumes.get('v1-repo', other)).rejects.toMatchObject({ status: 404, code: 'volume_not_found' });
    await expect(Volumes.delete('v1-repo', other)).rejects.toMatchObject({ status: 404, code: 'volume_not_found' });
    const otherFiles = await daemon.api('/v1/volumes/v1-repo/files?path=/notes/a.txt', { headers: { authorization: `Bearer ${other.token}` } });
    expect(otherFiles.status).toBe(404);
    await expect(Sandbox.create({ ...other, volumes: [{ name: 'v1-repo', path: '/work' }] })).rejects.toMatchObject({ status: 404, code: 'volume_not_found' });
    // The other tenant may have its own volume by the same name.
    const mine = await Volumes.create({ ...other, name: 'v1-repo', sizeMiB: 16 });
    expect(await mine.files.list('/')).toEqual([expect.objectContaining({ name: 'lost+found' })]);
    await expect(Volumes.create({ ...daemon.conn, name: 'v1-repo', sizeMiB: 16 })).rejects.toMatchObject({ status: 409, code: 'volume_exists' });
    await Volumes.delete('v1-repo', other);
    await Volumes.delete('v1-repo', daemon.conn);
    await expect(Volumes.get('v1-repo', daemon.conn)).rejects.toMatchObject({ status: 404 });
    expect(hostMountOptions()).toEqual([]);
  });

  it('V8: hold a tenant to its volume count and total size, concurrent creates included', async () => {
    const conn = await tenantConn('v8-quota', { maxVolumes: 2, maxVolumeMiB: 100 });
    // Three at once against a quota of two: the creates in flight count.
    const racing = await Promise.allSettled(['r1', 'r2', 'r3'].map((name) => Volumes.create({ ...conn, name, sizeMiB: 16 })));
    expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(racing.find((r) => r.status === 'rejected')).toMatchObject({ reason: { status: 429, code: 'quota_exceeded', details: { quota: 'maxVolumes' } } });
    for (const v of await Volumes.list(conn)) await Volumes.delete(v.name, conn);
    await Volumes.create({ ...conn, name: 'a', sizeMiB: 60 });
    await expect(Volumes.create({ ...conn, name: 'b', sizeMiB: 41 })).rejects.toMatchObject({
      status: 429,
      code: 'quota_exceeded',
      details: { quota: 'maxVolumeMiB', limit: 100, requested: 101 },
    });
    await Volumes.create({ ...conn, name: 'b', sizeMiB: 40 });
    await expect(Volumes.create({ ...conn, name: 'c', sizeMiB: 16 })).rejects.toMatchObject({ status: 429, details: { quota: 'maxVolumes', limit: 2 } });
    // The host's disk is reserved for each volume: one larger than its free space is refused, and leaves nothing.
    await expect(Volumes.create({ ...daemon.conn, name: 'v8-huge', sizeMiB: 16_000_000 })).rejects.toMatchObject({
      status: 400,
      code: 'exceeds_host_capacity',
    });
    expect(readdirSync(`${daemon.stateDir}/volumes`).filter((n) => n.endsWith('.img'))).toHaveLength(2);
    // A tenant that keeps volumes cannot be removed from under them.
    const removeTenant = await daemon.api('/v1/tenants/v8-quota', { method: 'DELETE' });
    expect(removeTenant.status).toBe(409);
    expect(await removeTenant.json()).toMatchObject({ error: { code: 'tenant_in_use', details: { volumes: 2 } } });
    await Volumes.delete('a', conn);
    await Volumes.delete('b', conn);
  });
});

describe.each(probeTiers)('volumes in sandboxes on the %s tier', (tier) => {
  it('V2: a volume mounted read-write keeps what the sandbox’s user writes after the sandbox is killed', async () => {
    const name = `v2-${tier}`;
    const volume = await Volumes.create({ ...daemon.conn, name, sizeMiB: 64 });
    const first = await Sandbox.create({ ...daemon.conn, tier, volumes: [{ name, path: '/work/data' }] });
    expect((await sh(first, 'echo from-sandbox > /work/data/kept && mkdir /work/data/dir && stat -c %U /work/data/kept', 'user')).stdout).toBe('user\n');
    expect((await Volumes.get(name, daemon.conn)).info.mounts).toEqual([{ sandbox: first.id, path: '/work/data', readOnly: false }]);
    await first.kill();
    expect(await volume.files.read('/kept')).toBe('from-sandbox\n');
    await volume.files.write('/dir/from-api', 'from-api');
    const second = await Sandbox.create({ ...daemon.conn, tier, volumes: [{ name, path: '/work/data' }] });
    const r = await sh(
      second,
      'cat /work/data/kept /work/data/dir/from-api && stat -c %U /work/data/dir/from-api && echo more >> /work/data/dir/from-api',
      'user',
    );
    expect(r).toMatchObject({ exitCode: 0, stdout: 'from-sandbox\nfrom-apiuser\n' });
    await second.kill();
    await Volumes.delete(name, daemon.conn);
  });

  it('V3: writing past the size limit fails with ENOSPC inside the sandbox and through the API; the daemon stays healthy', async () => {
    const name = `v3-${tier}`;
    const volume = await Volumes.create({ ...daemon.conn, name, sizeMiB: 16 });
    const sbx = await Sandbox.create({ ...daemon.conn, tier, volumes: [{ name, path: '/work' }] });
    const r = await sh(sbx, 'dd if=/dev/zero of=/work/fill bs=1M count=64 2>&1; echo "exit $?"', 'user');
    expect(r.stdout).toMatch(/No space left on device/);
    expect(r.stdout).toMatch(/exit 1/);
    const size = Number((await sh(sbx, 'stat -c %s /work/fill')).stdout);
    expect(size).toBeLessThan(16 * 1024 * 1024);
    await expect(volume.files.write('/more', new Uint8Array(4 * 1024 * 1024))).rejects.toMatchObject({ status: 507, code: 'no_space' });
    // The partial upload left nothing behind, and the sandbox's root disk is not the volume.
    expect((await volume.files.list('/')).map((e) => e.name)).toEqual(['fill', 'lost+found']);
    expect((await sh(sbx, 'echo fine > /tmp/x && cat /tmp/x')).stdout).toBe('fine\n');
    expect((await daemon.api('/v1/health')).status).toBe(200);
    await sh(sbx, 'rm /work/fill');
    expect((await volume.files.write('/after', 'room again')).size).toBe(10);
    await sbx.kill();
    await Volumes.delete(name, daemon.conn);
  });

  it('V4: a read-only mount refuses writes (EROFS); a volume mounted read-write is refused to a second sandbox (409); V5: one in use cannot be removed', async () => {
    const name = `v4-${tier}`;
    const volume = await Volumes.create({ ...daemon.conn, name, sizeMiB: 16 });
    await volume.files.write('/data.txt', 'shared');
    const readers = await Promise.all([1, 2].map(() => Sandbox.create({ ...daemon.conn, tier, volumes: [{ name, path: '/data', readOnly: true }] })));
    for (const reader of readers) {
      expect((await sh(reader, 'cat /data/data.txt')).stdout).toBe('shared');
      const w = await sh(reader, 'echo x > /data/new 2>&1; touch /data/data.txt 2>&1; rm -f /data/data.txt 2>&1');
      expect(w.stdout).toMatch(/Read-only file system/);
      expect(w.stdout).not.toMatch(/Permission denied/);
    }
    // Read-only mounts exclude a writer, and a writer excludes a second writer and readers.
    await expect(Sandbox.create({ ...daemon.conn, tier, volumes: [{ name, path: '/data' }] })).rejects.toMatchObject({ status: 409, code: 'volume_in_use' });
    for (const reader of readers) await reader.kill();
    const writer = await Sandbox.create({ ...daemon.conn, tier, volumes: [{ name, path: '/data' }] });
    await expect(Sandbox.create({ ...daemon.conn, tier, volumes: [{ name, path: '/data' }] })).rejects.toMatchObject({ status: 409, code: 'volume_in_use' });
    await expect(Sandbox.create({ ...daemon.conn, tier, volumes: [{ name, path: '/data', readOnly: true }] })).rejects.toMatchObject({
      status: 409,
      code: 'volume_in_use',
    });
    await expect(Volumes.delete(name, daemon.conn)).rejects.toMatchObject({ status: 409, code: 'volume_in_use', details: { sandboxes: [writer.id] } });
    expect(await volume.files.read('/data.txt')).toBe('shared');
    await writer.kill();
    await Volumes.delete(name, daemon.conn);
  });

  it('V6: setuid and device files made in a volume are harmless: it is mounted nosuid,nodev, and the sandbox sees no host path', async () => {
    const name = `v6-${tier}`;
    await Volumes.create({ ...daemon.conn, name, sizeMiB: 16 });
    const sbx = await Sandbox.create({ ...daemon.conn, tier, volumes: [{ name, path: '/work' }] });
    // Root of the sandbox makes a setuid-root copy of id; the user runs it and stays the user.
    expect((await sh(sbx, 'cp /usr/bin/id /work/suid-id && chmod 4755 /work/suid-id && stat -c %a /work/suid-id')).stdout).toBe('4755\n');
    expect((await sh(sbx, '/work/suid-id -u', 'user')).stdout).toBe('1000\n');
    // No device node can be made, and none would open.
    const dev = await sh(sbx, 'mknod /work/mem c 1 1 2>&1; head -c1 /work/mem 2>&1; echo done');
    expect(dev.stdout).toMatch(/done/);
    expect(dev.stdout).not.toMatch(/^.\ndone/);
    if (tier === 'container') {
      const line = (await sh(sbx, 'grep " /work " /proc/self/mountinfo')).stdout;
      expect(line).toMatch(/nosuid/);
      expect(line).toMatch(/nodev/);
    }
    const view = await sh(sbx, 'cat /proc/self/mountinfo /proc/self/mounts; cat /sys/block/loop*/loop/backing_file 2>/dev/null; true', 'user');
    expect(view.stdout).not.toContain(daemon.stateDir);
    expect(view.stdout).not.toContain('/volumes/');
    // On the host, the mount is nosuid and nodev too: the setuid file gives no host user root.
    expect(hostMountOptions().every((line) => /nosuid/.test(line) && /nodev/.test(line))).toBe(true);
    await sbx.kill();
    await Volumes.delete(name, daemon.conn);
  });
});

describe('the file API on a hostile volume', () => {
  it('V7: symlinks a sandbox plants and `..` do not lead the file API out of the volume', async () => {
    const volume = await Volumes.create({ ...daemon.conn, name: 'v7-hostile', sizeMiB: 16 });
    const sbx = await Sandbox.create({ ...daemon.conn, volumes: [{ name: 'v7-hostile', path: '/work' }] });
    const planted = await sh(
      sbx,
      [
        'ln -s /etc/shadow /work/shadow',
        'ln -s ../../../../../../ /work/up',
        'ln -s / /work/root',
        'mkdir -p /work/real && ln -s /tmp /work/real/tmp',
        `ln -s ${daemon.stateDir} /work/state`,
        'mkfifo /work/fifo',
        'echo inside > /work/real/ok',
      ].join(' && '),
    );
    expect(planted.exitCode).toBe(0);
    const refused = { status: 400, code: 'too_many_symlinks' };
    await expect(volume.files.read('/shadow')).rejects.toMatchObject(refused);
    await expect(volume.files.read('/root/etc/passwd')).rejects.toMatchObject(refused);
    await expect(volume.files.read('/up/etc/passwd')).rejects.toMatchObject(refused);
    await expect(volume.files.read('/state/token')).rejects.toMatchObject(refused);
    await expect(volume.files.list('/root')).rejects.toMatchObject(refused);
    await expect(volume.files.list('/state')).rejects.toMatchObject(refused);
    await expect(volume.files.write('/root/tmp/paddock-v7-escape', 'x')).rejects.toMatchObject(refused);
    await expect(volume.files.write('/real/tmp/paddock-v7-escape', 'x')).rejects.toMatchObject(refused);
    await expect(volume.files.makeDir('/root/tmp/paddock-v7-dir')).rejects.toMatchObject(refused);
    expect(existsSync('/tmp/paddock-v7-escape')).toBe(false);
    expect(existsSync('/tmp/paddock-v7-dir')).toBe(false);
    // `..` resolves against the volume's root: these name files in the volume, not the host's.
    await expect(volume.files.read('../../../../etc/passwd')).rejects.toMatchObject({ status: 404, code: 'file_not_found' });
    expect(await volume.files.read('/../real/../real/ok')).toBe('inside\n');
    // A symlink as the last part is described, not followed; writing over one replaces the link.
    expect(await volume.files.getInfo('/shadow')).toMatchObject({ type: 'symlink', symlinkTarget: '/etc/shadow' });
    await volume.files.write('/shadow', 'replaced');
    expect(readFileSync('/etc/shadow', 'utf8')).not.toContain('replaced');
    expect((await sh(sbx, 'test -L /work/shadow || cat /work/shadow')).stdout).toBe('replaced');
    // A FIFO is refused at once instead of hanging the call.
    await expect(volume.files.read('/fifo')).rejects.toMatchObject({ status: 400 });
    // Removing through a link removes the link only.
    await volume.files.remove('/root', { recursive: true });
    expect(existsSync('/etc/passwd')).toBe(true);
    await volume.files.remove('/real', { recursive: true });
    expect(existsSync('/tmp')).toBe(true);
    expect((await volume.files.list('/')).map((e) => e.name)).toEqual(['fifo', 'lost+found', 'shadow', 'state', 'up']);
    await sbx.kill();
    await Volumes.delete('v7-hostile', daemon.conn);
  });
});

describe('volumes across daemon restarts', () => {
  it('V9: a volume and its data survive a daemon kill -9 and restart; a volume the host lost (a reboot) is mounted again', async () => {
    await Volumes.create({ ...daemon.conn, name: 'v9-durable', sizeMiB: 32 });
    const sbx = await Sandbox.create({ ...daemon.conn, volumes: [{ name: 'v9-durable', path: '/work' }] });
    await sh(sbx, 'echo before > /work/before && sync', 'user');
    await daemon.crash();
    await daemon.restart();
    // The adopted sandbox still writes to it, and it is still in use.
    const adopted = await Sandbox.connect(sbx.id, daemon.conn);
    expect((await sh(adopted, 'cat /work/before && echo after > /work/after && sync', 'user')).stdout).toBe('before\n');
    await expect(Volumes.delete('v9-durable', daemon.conn)).rejects.toMatchObject({ status: 409, code: 'volume_in_use' });
    await adopted.kill();
    const files = (await Volumes.get('v9-durable', daemon.conn)).files;
    expect(await files.read('/after')).toBe('after\n');
    // As after a reboot: the host has lost the mount when the daemon starts.
    const mounted = hostMountOptions().length;
    await daemon.crash();
    for (const line of hostMountOptions()) execFileSync('umount', [line.split(' ')[4] as string]);
    expect(hostMountOptions()).toEqual([]);
    // What a create the daemon died in leaves: an image and a folder no record names.
    writeFileSync(`${daemon.stateDir}/volumes/vol-000000000000.img`, '');
    mkdirSync(`${daemon.stateDir}/volumes/vol-000000000000`);
    await daemon.restart();
    expect(existsSync(`${daemon.stateDir}/volumes/vol-000000000000.img`)).toBe(false);
    expect(existsSync(`${daemon.stateDir}/volumes/vol-000000000000`)).toBe(false);
    expect(hostMountOptions()).toHaveLength(mounted);
    expect((await Volumes.get('v9-durable', daemon.conn)).info.mounts).toEqual([]);
    expect(await (await Volumes.get('v9-durable', daemon.conn)).files.read('/before')).toBe('before\n');
    const again = await Sandbox.create({ ...daemon.conn, volumes: [{ name: 'v9-durable', path: '/work' }] });
    expect((await sh(again, 'cat /work/before /work/after', 'user')).stdout).toBe('before\nafter\n');
    await again.kill();
    await Volumes.delete('v9-durable', daemon.conn);
  });
});

describe('volumes under policy', () => {
  it("V10: volume actions are Cedar actions on the tenant's Volume, decided and audited, a mount included", async () => {
    const policy = `${daemon.stateDir}/policies/v10.cedar`;
    writeFileSync(
      policy,
      `@reason("golden is read-only for agents")
forbid (principal, action in [Paddock::Action::"volume.write", Paddock::Action::"volume.delete"], resource == Paddock::Volume::"golden")
when { principal.role == "agent" };
@reason("golden is mounted read-only by agents")
forbid (principal, action == Paddock::Action::"volume.mount", resource == Paddock::Volume::"golden")
when { principal.role == "agent" && context has op && context.op == "rw" };
`,
    );
    const agent = await tenantConn('v10');
    try {
      await expect.poll(async () => (await (await daemon.api('/v1/policies')).json()).policies.length, { timeout: 5000 }).toBeGreaterThan(5);
      const golden = await Volumes.create({ ...agent, name: 'golden', sizeMiB: 16 });
      await expect(golden.files.write('/x', 'no')).rejects.toMatchObject({ status: 403, code: 'policy_denied' });
      await expect(Volumes.delete('golden', agent)).rejects.toMatchObject({ status: 403, code: 'policy_denied' });
      await expect(Sandbox.create({ ...agent, volumes: [{ name: 'golden', path: '/golden' }] })).rejects.toMatchObject({ status: 403, code: 'policy_denied' });
      const reader = await Sandbox.create({ ...agent, volumes: [{ name: 'golden', path: '/golden', readOnly: true }] });
      await reader.kill();
      const records = (await (await daemon.api('/v1/audit?limit=10000')).json()).records as Array<Record<string, unknown>>;
      const mounts = records.filter((r) => r.action === 'volume.mount' && r.resource === 'volume:golden');
      expect(mounts.map((r) => [r.decision, r.outcome, (r.details as Record<string, unknown>).op])).toEqual([
        ['deny', 'policy_denied', 'rw'],
        ['allow', 'ok', 'ro'],
      ]);
      expect(records.some((r) => r.action === 'volume.write' && r.decision === 'deny')).toBe(true);
    } finally {
      rmSync(policy);
    }
    const removed = () =>
      Volumes.delete('golden', agent).then(
        () => true,
        () => false,
      );
    await expect.poll(removed, { timeout: 5000 }).toBe(true);
  });
});

describe('volume export and import', () => {
  it('V11: a hostile archive imported into a volume writes only files and folders inside it; an export round-trips through extractArchive', async () => {
    const volume = await Volumes.create({ ...daemon.conn, name: 'v11', sizeMiB: 32 });
    const sbx = await Sandbox.create({ ...daemon.conn, volumes: [{ name: 'v11', path: '/work' }] });
    // A sandbox plants a link to a host folder before the import.
    expect((await sh(sbx, 'ln -s /tmp /work/planted')).exitCode).toBe(0);
    const tarFile = `${daemon.stateDir}.v11.tar`;
    execFileSync('python3', [
      '-c',
      [
        'import io, tarfile, sys',
        't = tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT)',
        'def add(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link=""):',
        '    i = tarfile.TarInfo(name); i.type = kind; i.mode = mode; i.linkname = link',
        '    i.size = len(data) if kind == tarfile.REGTYPE else 0',
        '    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)',
        'add("src/", tarfile.DIRTYPE, mode=0o755)',
        'add("src/ok.txt", data=b"fine")',
        'add("src/suid", data=b"x", mode=0o4755)',
        'add("src/chr", tarfile.CHRTYPE)',
        'add("src/fifo", tarfile.FIFOTYPE)',
        'add("src/shadow", tarfile.LNKTYPE, link="/etc/shadow")',
        'add("src/etc", tarfile.SYMTYPE, link="/etc")',
        'add("src/etc/paddock-v11-probe", data=b"beneath a link to /etc")',
        'add("../../../../tmp/paddock-v11-escape", data=b"dot-dot")',
        'add("/etc/paddock-v11-abs", data=b"absolute")',
        'add("long/" + "d" * 150 + "/file", data=b"long name")',
        't.close()',
      ].join('\n'),
      tarFile,
    ]);
    const result = await volume.files.uploadArchive(readFileSync(tarFile));
    expect(result).toEqual({ files: 6, dirs: 1, skipped: ['/src/chr', '/src/fifo', '/src/shadow', '/src/etc'] });
    for (const outside of ['/tmp/paddock-v11-escape', '/etc/paddock-v11-probe', '/etc/paddock-v11-abs']) expect(existsSync(outside), outside).toBe(false);
    // Inside the volume: `..` and absolute names landed under its root, the setuid bit is gone, and nothing went through the link the sandbox planted.
    const seen = await sh(
      sbx,
      'cat /work/tmp/paddock-v11-escape /work/etc/paddock-v11-abs /work/src/etc/paddock-v11-probe; stat -c "%a %U" /work/src/suid',
      'user',
    );
    expect(seen.stdout).toBe('dot-dotabsolutebeneath a link to /etc755 user\n');
    // An entry beneath the planted link is refused, and nothing is written beyond it.
    rmSync(tarFile);
    execFileSync('python3', [
      '-c',
      'import io, tarfile, sys\nt = tarfile.open(sys.argv[1], "w")\ni = tarfile.TarInfo("planted/paddock-v11-through"); i.size = 1\nt.addfile(i, io.BytesIO(b"x"))\nt.close()',
      tarFile,
    ]);
    await expect(volume.files.uploadArchive(readFileSync(tarFile))).rejects.toMatchObject({ status: 400, code: 'too_many_symlinks' });
    expect(existsSync('/tmp/paddock-v11-through')).toBe(false);
    rmSync(tarFile);
    // Out again: unpacked off the host with the SDK's hostile-archive rules, the planted link does not lead out.
    const { extractArchive } = await import('@paddock/sdk/node');
    const out = `${daemon.stateDir}.v11-out`;
    mkdirSync(out);
    try {
      // The link the sandbox planted is the one entry left out, and said so.
      await expect(extractArchive(await volume.files.downloadArchive(), out)).rejects.toMatchObject({
        code: 'unsafe_archive',
        message: expect.stringContaining('"planted"'),
      });
      expect(existsSync(`${out}/planted`)).toBe(false);
      expect(readFileSync(`${out}/src/ok.txt`, 'utf8')).toBe('fine');
      expect(readFileSync(`${out}/long/${'d'.repeat(150)}/file`, 'utf8')).toBe('long name');
      expect(existsSync(`${out}/lost+found`)).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    await sbx.kill();
    await Volumes.delete('v11', daemon.conn);
  });

  it('V20: a volume made from a template’s folder holds a copy of it (owners, modes and links kept; a link out stays a link the file API will not follow); a folder the template lacks makes no volume', async () => {
    const setup = [
      'mkdir -p /srv/app/sub',
      'echo hi > /srv/app/a.txt',
      'echo deep > /srv/app/sub/b.txt',
      'chmod 0750 /srv/app/sub',
      'chown user:user /srv/app/a.txt',
      'ln -s a.txt /srv/app/link',
      'ln -s /etc/shadow /srv/app/shadow',
    ].join(' && ');
    await Templates.build({ ...daemon.conn, name: 'v20-seed', paddockfile: `FROM base\nRUN ${setup}\n` });
    const seeded = await Volumes.create({ ...daemon.conn, name: 'v20-seeded', sizeMiB: 64, from: { template: 'v20-seed', path: '/srv/app' } });
    expect(await seeded.files.read('/sub/b.txt')).toBe('deep\n');
    await expect(seeded.files.read('/shadow')).rejects.toMatchObject({ status: 400 });
    const sbx = await Sandbox.create({ ...daemon.conn, volumes: [{ name: 'v20-seeded', path: '/data' }] });
    try {
      const view = await sbx.commands.run([
        'sh',
        '-c',
        'stat -c "%U %a %n" /data/a.txt /data/sub; readlink /data/link /data/shadow; touch /data/new && echo the user writes at its root',
      ]);
      expect(view.stdout).toBe('user 644 /data/a.txt\nroot 750 /data/sub\na.txt\n/etc/shadow\nthe user writes at its root\n');
    } finally {
      await sbx.kill();
    }
    const before = await Sandbox.list({ ...daemon.conn, state: 'running' });
    const missing = Volumes.create({ ...daemon.conn, name: 'v20-missing', sizeMiB: 64, from: { template: 'v20-seed', path: '/nowhere' } });
    await expect(missing).rejects.toMatchObject({ code: 'volume_fill_failed', status: 400, message: expect.stringContaining('/nowhere') });
    const unknown = Volumes.create({ ...daemon.conn, name: 'v20-missing', sizeMiB: 64, from: { template: 'no-such-template', path: '/srv' } });
    await expect(unknown).rejects.toMatchObject({ code: 'template_not_found' });
    await expect(Volumes.get('v20-missing', daemon.conn)).rejects.toMatchObject({ code: 'volume_not_found' });
    expect(await Sandbox.list({ ...daemon.conn, state: 'running' })).toEqual(before);
    await Volumes.delete('v20-seeded', daemon.conn);
  });
});
