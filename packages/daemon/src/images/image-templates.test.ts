import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Registries, Sandbox, Templates, Tokens } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImage, claimSize, type LayerEntry, layerTar, skopeo, startRegistry, type TestRegistry, writeOciLayout } from '../testing/oci-fixture.js';
import { runCli } from '../testing/run-cli.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

let daemon: TestDaemon;
let registry: TestRegistry;
let closed: TestRegistry;
let work: string;
let layout: string;
const layerLimit = 32 * 1024 * 1024;

beforeAll(async () => {
  work = mkdtempSync('/tmp/paddock-images-');
  layout = join(work, 'layout');
  await busyboxImage(layout);
  registry = await startRegistry();
  closed = await startRegistry({ username: 'alice', password: 'right-password' });
  skopeo('copy', '--quiet', `oci:${layout}:latest`, `docker://${registry.host}/test/web:1`, '--dest-tls-verify=false');
  skopeo('copy', '--quiet', `oci:${layout}:latest`, `docker://${closed.host}/test/web:1`, '--dest-tls-verify=false', '--dest-creds', 'alice:right-password');
  daemon = await startTestDaemon(['--insecure-registry', registry.host, '--insecure-registry', closed.host, '--max-image-layer-size', String(layerLimit)]);
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await registry?.stop();
  await closed?.stop();
  rmSync(work, { recursive: true, force: true });
});

const layersDir = () => join(daemon.stateDir, 'layers');
const imageLayers = () => readdirSync(layersDir()).filter((n) => n.startsWith('img-'));
/** Whatever a failed or cancelled image leaves: staging and work folders, new layers. */
const leftovers = () => readdirSync(layersDir()).filter((n) => n.startsWith('.'));

/** What a user checks in a sandbox of the image: its files, its ENV, WORKDIR and USER, and its whiteouts. */
async function expectImageSandbox(template: string, tier: 'container' | 'gvisor' = 'container'): Promise<void> {
  const sbx = await Sandbox.create({ ...daemon.conn, template, tier });
  try {
    // The image's Cmd is its start command (a shell, which ends at once without input).
    expect(await sbx.commands.list()).toEqual([expect.objectContaining({ cmd: ['sh'], user: 'app' })]);
    const r = await sbx.commands.run(['sh', '-c', 'cat /etc/os-release; echo $GREETING; pwd; id -u; cat hello.txt; ls /opt/old; ls /etc']);
    const [osRelease, greeting, pwd, uid, hello, opt, ...etc] = r.stdout.trim().split('\n');
    expect({ osRelease, greeting, pwd, uid, hello, opt }).toEqual({
      osRelease: 'ID=paddock-test-image',
      greeting: 'from-the-image',
      pwd: '/srv',
      uid: '1234',
      hello: 'hello from the image',
      opt: 'b.txt',
    });
    expect(etc.join(' ')).not.toContain('removed.txt');
    // setuid is kept (the user namespace makes it no host privilege); the hard link is the same file.
    expect((await sbx.commands.run(['stat', '-c', '%a %u', '/usr/bin/su-like', '/srv/hello.txt'], { user: 'root' })).stdout).toBe('4755 0\n644 1234\n');
    expect(await sbx.files.read('/etc/hard.txt')).toBe('ID=paddock-test-image\n');
  } finally {
    await sbx.kill();
  }
}

describe('templates from OCI images', () => {
  it('imports an OCI archive with the CLI and a docker-archive with the SDK; sandboxes start with the image’s files, Env, WorkingDir and User', async () => {
    const ociArchive = join(work, 'image.oci.tar');
    const dockerArchive = join(work, 'image.docker.tar');
    skopeo('copy', '--quiet', `oci:${layout}:latest`, `oci-archive:${ociArchive}:latest`);
    skopeo('copy', '--quiet', `oci:${layout}:latest`, `docker-archive:${dockerArchive}:test/web:1`);

    const cli = await runCli(['template', 'import', ociArchive, '--name', 'legacy'], { env: daemon.env });
    expect(cli).toMatchObject({ code: 0, stdout: 'legacy\n' });
    expect(cli.stderr).toMatch(/layer 2\/2/);
    const legacy = await Templates.get('legacy', daemon.conn);
    expect(legacy).toMatchObject({ kind: 'image', workdir: '/srv', user: 'app', env: { GREETING: 'from-the-image' }, image: { cmd: ['sh'] } });
    expect(legacy.layers).toHaveLength(2);
    await expectImageSandbox('legacy');
    await expectImageSandbox('legacy', 'gvisor');

    const layersBefore = imageLayers();
    const events: string[] = [];
    const fromDocker = await Templates.import({
      ...daemon.conn,
      name: 'from-docker',
      archive: new Uint8Array(readFileSync(dockerArchive)),
      onEvent: (e) => e.type === 'log' && events.push(e.data),
    });
    // The same layers, whatever the archive's format: unpacked once, shared.
    expect(fromDocker.layers).toEqual(legacy.layers);
    expect(imageLayers()).toEqual(layersBefore);
    expect(events.join('')).toMatch(/already unpacked[\s\S]*already unpacked/);
    await expectImageSandbox('from-docker');

    // A shared layer stays while any template has it.
    await Templates.remove('legacy', daemon.conn);
    expect(imageLayers()).toEqual(layersBefore);
    await Templates.remove('from-docker', daemon.conn);
    expect(imageLayers()).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it('pulls from a registry by tag and by digest', async () => {
    const cli = await runCli(['template', 'build', 'web', '--from-image', `${registry.host}/test/web:1`], { env: daemon.env });
    expect(cli).toMatchObject({ code: 0, stdout: 'web\n' });
    const web = await Templates.get('web', daemon.conn);
    const run = await runCli(['run', '-T', 'web', '--', 'cat', '/etc/os-release'], { env: daemon.env });
    expect(run).toMatchObject({ stderr: '', code: 0, stdout: 'ID=paddock-test-image\n' });
    await expectImageSandbox('web');

    const digest = web.image?.digest ?? '';
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const pinned = await Templates.build({ ...daemon.conn, name: 'web-pinned', fromImage: `${registry.host}/test/web@${digest}` });
    expect(pinned.layers).toEqual(web.layers);
    expect(pinned.image?.digest).toBe(digest);

    await expect(Templates.build({ ...daemon.conn, name: 'nope', fromImage: `${registry.host}/test/web:missing` })).rejects.toMatchObject({
      code: 'image_not_found',
    });
    await Templates.remove('web', daemon.conn);
    await Templates.remove('web-pinned', daemon.conn);
    expect(leftovers()).toEqual([]);
  });

  it('I1: a plain-HTTP registry the operator has not allowed is refused; a registry that asks for a login is refused without one', async () => {
    const insecure = await runCli(['template', 'build', 'web', '--from-image', `localhost:${registry.host.split(':')[1]}/test/web:1`], { env: daemon.env });
    expect(insecure.code).not.toBe(0);
    expect(insecure.stderr).toMatch(/insecure-registry/);
    expect(insecure.stderr).not.toMatch(/\n\s+at /);
    await expect(Templates.build({ ...daemon.conn, name: 'web', fromImage: `${closed.host}/test/web:1` })).rejects.toMatchObject({
      code: 'registry_auth_failed',
    });
    await expect(Templates.get('web', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
    expect(leftovers()).toEqual([]);
  });

  it('I18: an image whose manifest claims a layer over the limit is refused before its layers are downloaded', async () => {
    const dir = join(work, 'big');
    writeOciLayout(dir, [await layerTar([{ name: 'noise', data: randomBytes(layerLimit + 1024 * 1024) }])], {});
    skopeo('copy', '--quiet', `oci:${dir}:latest`, `docker://${registry.host}/test/big:1`, '--dest-tls-verify=false');
    const err = await Templates.build({ ...daemon.conn, name: 'big', fromImage: `${registry.host}/test/big:1` }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'image_too_large', message: expect.stringContaining('nothing was downloaded'), details: { limitBytes: layerLimit } });
    await expect(Templates.get('big', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
    expect(leftovers()).toEqual([]);
  });

  it('I19: a pull the client cancels while the registry stalls stops skopeo and leaves nothing', async () => {
    // A "registry" that accepts connections and never answers.
    const sockets: Socket[] = [];
    const stall = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(stall.address() as AddressInfo).port}`;
    const abort = new AbortController();
    const pulling = Templates.build({ ...daemon.conn, name: 'stalled', fromImage: `${host}/test/web:1`, signal: abort.signal }).catch((e: unknown) => e);
    for (let i = 0; i < 200 && !sockets.length; i++) await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    expect(await pulling).toMatchObject({ code: 'aborted' });
    const skopeoFor = () =>
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.startsWith('skopeo') && line.includes(host));
    for (let i = 0; i < 100 && (leftovers().length || skopeoFor().length); i++) await new Promise((r) => setTimeout(r, 50));
    expect(sockets.length).toBeGreaterThan(0);
    expect(skopeoFor()).toEqual([]);
    expect(leftovers()).toEqual([]);
    await expect(Templates.get('stalled', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
    for (const socket of sockets) socket.destroy();
    stall.close();
  });

  it('I16: a registry login is used for pulls and never shows: not in API answers, the audit log, the database in clear, the log or a sandbox', async () => {
    const password = 'right-password';
    const wrong = await runCli(['registry', 'login', closed.host, '-u', 'alice'], { env: daemon.env, stdin: 'wrong-password\n' });
    expect(wrong).toMatchObject({ code: 0, stdout: `alice@${closed.host}\n` });
    const refused = await runCli(['template', 'build', 'private', '--from-image', `${closed.host}/test/web:1`], { env: daemon.env });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/refused the stored login/);

    const right = await runCli(['registry', 'login', closed.host, '-u', 'alice'], { env: daemon.env, stdin: `${password}\n` });
    expect(right.code).toBe(0);
    const pulled = await runCli(['template', 'build', 'private', '--from-image', `${closed.host}/test/web:1`], { env: daemon.env });
    expect(pulled).toMatchObject({ code: 0, stdout: 'private\n' });

    const listed = await runCli(['registry', 'ls', '--json'], { env: daemon.env });
    expect(JSON.parse(listed.stdout)).toEqual([{ host: closed.host, username: 'alice', shared: false, createdAt: expect.any(String) }]);
    const sbx = await Sandbox.create({ ...daemon.conn, template: 'private' });
    const inside = await sbx.commands.run(['sh', '-c', 'env; cat /proc/1/environ'], { user: 'root' });
    await sbx.kill();
    const audit = await (await daemon.api('/v1/audit?limit=1000')).text();
    expect(audit).toContain('registry.login');
    for (const where of [listed.stdout, inside.stdout, audit, await daemon.logWritten(), ...databaseFiles()]) {
      expect(where).not.toContain(password);
    }

    expect(await runCli(['registry', 'logout', closed.host], { env: daemon.env })).toMatchObject({ code: 0 });
    const again = await runCli(['registry', 'logout', closed.host], { env: daemon.env });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/no login for registry/);
    await Templates.remove('private', daemon.conn);
  });

  it('I17: a shared registry login is an admin’s to set; a tenant’s pulls use it, and a tenant cannot replace or remove it', async () => {
    await daemon.api('/v1/tenants', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"img-team"}' });
    const operator = await Tokens.create({ tenant: 'img-team', role: 'operator' }, daemon.conn);
    const team = { url: daemon.url, token: operator.token };
    await expect(Registries.login(closed.host, { username: 'alice', password: 'x', shared: true }, team)).rejects.toMatchObject({ code: 'policy_denied' });
    await Registries.login(closed.host, { username: 'alice', password: 'right-password', shared: true }, daemon.conn);
    const made = await Templates.build({ ...team, name: 'team-web', fromImage: `${closed.host}/test/web:1` });
    expect(made.kind).toBe('image');
    expect(await Registries.list(team)).toEqual([{ host: closed.host, username: 'alice', shared: true, createdAt: expect.any(String) }]);
    await expect(Registries.logout(closed.host, { ...team, shared: true })).rejects.toMatchObject({ code: 'policy_denied' });
    await Templates.remove('team-web', team);
    await Registries.logout(closed.host, { ...daemon.conn, shared: true });
  });

  it('I2: an upload cut off by the client leaves no template and no files', async () => {
    const abort = new AbortController();
    let pushed = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pushed++;
        if (pushed === 20) abort.abort();
        if (pushed < 20) controller.enqueue(new Uint8Array(64 * 1024));
        return new Promise((r) => setTimeout(r, 5));
      },
    });
    await expect(Templates.import({ ...daemon.conn, name: 'cut', archive: endless, signal: abort.signal })).rejects.toBeDefined();
    for (let i = 0; i < 100 && leftovers().length; i++) await new Promise((r) => setTimeout(r, 50));
    expect(leftovers()).toEqual([]);
    await expect(Templates.get('cut', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
  });
});

/** The database and its write-ahead log, as bytes an attacker with the disk would read. */
function databaseFiles(): string[] {
  return readdirSync(daemon.stateDir)
    .filter((n) => n.startsWith('paddock.db'))
    .map((n) => readFileSync(join(daemon.stateDir, n)).toString('latin1'));
}

/** Imports the hostile archive: refused with the code, no template, no folder left, nothing written outside. */
async function expectRefused(id: string, entries: LayerEntry[], code: string, patch?: (tar: Buffer) => Buffer): Promise<void> {
  const archive = await hostileArchive(id, entries, patch);
  const before = imageLayers();
  const err = await Templates.import({ ...daemon.conn, name: 'hostile', archive: new Uint8Array(readFileSync(archive)) }).catch((e: unknown) => e);
  expect(err).toMatchObject({ code });
  await expect(Templates.get('hostile', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
  // Not even the harmless layer below the hostile one stays.
  expect(imageLayers()).toEqual(before);
  expect(leftovers()).toEqual([]);
  expect(readdirSync('/tmp').filter((n) => n === 'paddock-escaped')).toEqual([]);
  expect(readFileSync('/etc/hostname', 'utf8')).toBeTruthy();
}

/** One hostile layer on top of a harmless one, as an OCI archive. */
async function hostileArchive(name: string, entries: LayerEntry[], patch: (tar: Buffer) => Buffer = (t) => t): Promise<string> {
  const dir = join(work, `hostile-${name}`);
  const floor = await layerTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', data: 'root:x:0:0::/root:/bin/sh\n' },
  ]);
  writeOciLayout(dir, [floor, patch(await layerTar(entries))], {});
  const archive = `${dir}.tar`;
  skopeo('copy', '--quiet', `oci:${dir}:latest`, `oci-archive:${archive}:latest`);
  return archive;
}

describe('hostile layers are refused and leave nothing behind', () => {
  it('I3: a path that climbs out of the layer', () => expectRefused('I3', [{ name: '../../../tmp/paddock-escaped', data: 'x' }], 'image_layer_refused'));

  it('I4: an absolute path', () => expectRefused('I4', [{ name: '/tmp/paddock-escaped', data: 'x' }], 'image_layer_refused'));

  it('I5: a device node', () => expectRefused('I5', [{ name: 'dev-sda', type: 'block-device', devmajor: 8, devminor: 0 }], 'image_layer_refused'));

  it('I6: a character device posing as a whiteout', () =>
    expectRefused('I6', [{ name: 'etc/passwd', type: 'character-device', devmajor: 0, devminor: 0 }], 'image_layer_refused'));

  it('I7: a FIFO', () => expectRefused('I7', [{ name: 'pipe', type: 'fifo' }], 'image_layer_refused'));

  it('I8: a hard link out of the layer', () =>
    expectRefused('I8', [{ name: 'shadow', type: 'link', linkname: '../../../../etc/shadow' }], 'image_layer_refused'));

  it('I9: a hard link to a file of a lower layer', () => expectRefused('I9', [{ name: 'pw', type: 'link', linkname: 'etc/passwd' }], 'image_layer_refused'));

  it('I10: a write through a symlink it just made', () =>
    expectRefused(
      'I10',
      [
        { name: 'escape', type: 'symlink', linkname: '/tmp' },
        { name: 'escape/paddock-escaped', data: 'x' },
      ],
      'image_layer_refused',
    ));

  it('I11: a whiteout through a symlink, to delete a host file', () =>
    expectRefused('I11', [{ name: 'hostetc', type: 'symlink', linkname: '/etc' }, { name: 'hostetc/.wh.hostname' }], 'image_layer_refused'));

  it('I12: a whiteout that climbs out of the layer', () => expectRefused('I12', [{ name: 'etc/../../.wh.etc' }], 'image_layer_refused'));

  it('I13: an owner outside the sandbox’s id range', () => expectRefused('I13', [{ name: 'owned', data: 'x', uid: 70_000 }], 'image_layer_refused'));

  it('I14: a 10 GB size claim', () => expectRefused('I14', [{ name: 'huge', data: 'x' }], 'image_too_large', (t) => claimSize(t, 10 * 1024 ** 3)));

  it('I20: a whiteout under a folder the layer then replaces with a symlink, to make a device node on the host', () =>
    expectRefused(
      'I20',
      [
        { name: 'trap/', type: 'directory' },
        { name: 'trap/.wh.paddock-escaped' },
        { name: 'trap/sub/', type: 'directory' },
        { name: 'trap/sub/.wh..wh..opq' },
        { name: 'trap', type: 'symlink', linkname: '/tmp' },
      ],
      'image_layer_refused',
    ));

  it('I15: a layer whose content does not match its digest', async () => {
    const dir = join(work, 'hostile-digest');
    writeOciLayout(dir, [await layerTar([{ name: 'a.txt', data: 'one' }])], {});
    const forged = join(work, 'hostile-digest-forged');
    forgeDiffId(dir, forged);
    const archive = join(work, 'hostile-digest.tar');
    execFileSync('tar', ['-cf', archive, '-C', forged, '.']);
    const err = await Templates.import({ ...daemon.conn, name: 'hostile', archive: new Uint8Array(readFileSync(archive)) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_image' });
    expect(leftovers()).toEqual([]);
    const garbage = await Templates.import({ ...daemon.conn, name: 'hostile', archive: new Uint8Array(Buffer.from('not an archive')) }).catch(
      (e: unknown) => e,
    );
    expect(garbage).toMatchObject({ code: 'invalid_image' });
    // Where the daemon keeps the upload is none of the caller's business.
    expect(JSON.stringify(garbage)).not.toContain(daemon.stateDir);
    expect((garbage as Error).message).not.toContain(daemon.stateDir);
  });
});

/** Copies a layout, its config claiming a diff_id its layer does not have (manifest and index rewritten to match). */
function forgeDiffId(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const blobs = join(to, 'blobs', 'sha256');
  const put = (b: Buffer) => {
    const hex = createHash('sha256').update(b).digest('hex');
    writeFileSync(join(blobs, hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  const index = JSON.parse(readFileSync(join(to, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(blobs, index.manifests[0].digest.slice(7)), 'utf8'));
  const config = JSON.parse(readFileSync(join(blobs, manifest.config.digest.slice(7)), 'utf8'));
  config.rootfs.diff_ids = [`sha256:${'0'.repeat(64)}`];
  manifest.config = { ...manifest.config, ...put(Buffer.from(JSON.stringify(config))) };
  index.manifests[0] = { ...index.manifests[0], ...put(Buffer.from(JSON.stringify(manifest))) };
  writeFileSync(join(to, 'index.json'), JSON.stringify(index));
}
