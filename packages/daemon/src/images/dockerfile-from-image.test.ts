import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Registries, Sandbox, type TemplateBuildEvent, Templates } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImage, skopeo, startRegistry, type TestRegistry } from '../testing/oci-fixture.js';
import { runCli } from '../testing/run-cli.js';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// A Dockerfile's FROM naming a registry image: pulled from a registry on
// loopback through the same path as --from-image, then built on.
let daemon: TestDaemon;
let registry: TestRegistry;
let closed: TestRegistry;
let work: string;
let image: string;

beforeAll(async () => {
  work = mkdtempSync('/tmp/paddock-from-image-');
  await busyboxImage(join(work, 'layout'));
  registry = await startRegistry();
  image = `${registry.host}/test/web:1`;
  skopeo('copy', '--quiet', `oci:${join(work, 'layout')}:latest`, `docker://${image}`, '--dest-tls-verify=false');
  closed = await startRegistry({ username: 'alice', password: 'right-password' });
  const push = ['--dest-tls-verify=false', '--dest-creds', 'alice:right-password'];
  skopeo('copy', '--quiet', `oci:${join(work, 'layout')}:latest`, `docker://${closed.host}/test/web:1`, ...push);
  daemon = await startTestDaemon(['--insecure-registry', registry.host, '--insecure-registry', closed.host]);
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await registry?.stop();
  await closed?.stop();
  rmSync(work, { recursive: true, force: true });
});

const layersDir = () => join(daemon.stateDir, 'layers');
const imageLayers = () => readdirSync(layersDir()).filter((n) => n.startsWith('img-'));
/** Staging and work folders a pull leaves if it does not clean up. */
const leftovers = () => readdirSync(layersDir()).filter((n) => n.startsWith('.'));

function contextTar(files: Record<string, string>): Uint8Array {
  const dir = mkdtempSync(join(work, 'ctx-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return new Uint8Array(execFileSync('tar', ['-c', '-C', dir, '.']));
}

async function build(options: Omit<Parameters<typeof Templates.build>[0], 'url' | 'token'>): Promise<{ steps: string[]; logs: string }> {
  const events: TemplateBuildEvent[] = [];
  await Templates.build({ ...daemon.conn, ...options, onEvent: (e) => events.push(e) });
  return {
    steps: events.flatMap((e) => (e.type === 'step' ? [`${e.text}${e.cached ? ' (cached)' : ''}`] : [])),
    logs: events.flatMap((e) => (e.type === 'log' ? [e.data] : [])).join(''),
  };
}

async function inSandbox(template: string, script: string): Promise<string> {
  const sbx = await Sandbox.create({ ...daemon.conn, template });
  try {
    return (await sbx.commands.run(['sh', '-c', script])).stdout;
  } finally {
    await sbx.kill();
  }
}

describe('Dockerfile FROM a registry image', () => {
  it('builds RUN and COPY on the image’s layers, Env, WorkingDir and User; a rebuild reuses the pulled layers and every cached step', async () => {
    const dockerfile = `FROM ${image}\nRUN echo "ran as $(id -u) in $(pwd) with $GREETING" > /home/app/step.txt\nCOPY app.txt /srv/app.txt\n`;
    const context = contextTar({ 'app.txt': 'from the context\n' });
    const first = await build({ name: 'on-image', dockerfile, context });
    expect(first.logs).toContain(`pulling ${image}`);
    expect(first.logs).toMatch(/unpacked, /);
    expect(first.logs).not.toMatch(/nothing to download/);
    expect(first.steps).toEqual([`FROM ${image}`, expect.stringMatching(/^RUN echo/), 'COPY app.txt /srv/app.txt', 'saving template']);
    const seen = await inSandbox('on-image', 'cat /etc/os-release hello.txt /home/app/step.txt app.txt; id -u; pwd');
    expect(seen).toBe('ID=paddock-test-image\nhello from the image\nran as 1234 in /srv with from-the-image\nfrom the context\n1234\n/srv\n');
    expect(await Templates.get('on-image', daemon.conn)).toMatchObject({
      kind: 'build',
      parent: null,
      user: 'app',
      workdir: '/srv',
      env: { GREETING: 'from-the-image' },
    });

    const layersBefore = imageLayers();
    const second = await build({ name: 'on-image-again', dockerfile, context });
    expect(second.logs).not.toMatch(/unpacked, /);
    expect(second.logs).toMatch(/every layer is unpacked already: nothing to download/);
    expect(second.steps).toEqual([`FROM ${image}`, expect.stringMatching(/^RUN echo.*\(cached\)$/), 'COPY app.txt /srv/app.txt (cached)', 'saving template']);
    expect(imageLayers()).toEqual(layersBefore);
    expect(await inSandbox('on-image-again', 'cat /home/app/step.txt app.txt')).toBe('ran as 1234 in /srv with from-the-image\nfrom the context\n');
  });

  it('copies files out of an image stage into a stage on base (COPY --from)', async () => {
    const dockerfile = `FROM ${image} AS img\nFROM base\nCOPY --from=img /etc/os-release /srv/hello.txt /imported/\n`;
    await build({ name: 'from-image-stage', dockerfile });
    expect(await inSandbox('from-image-stage', 'cat /imported/os-release /imported/hello.txt; cat /etc/debian_version >/dev/null && echo debian')).toBe(
      'ID=paddock-test-image\nhello from the image\ndebian\n',
    );
  });

  it('I21: an image that is not in the registry fails the build naming the FROM’s line, and leaves no template, layer, folder or sandbox', async () => {
    const layersBefore = imageLayers();
    const sandboxesBefore = await Sandbox.list({ ...daemon.conn, state: 'all' });
    const missing = `${registry.host}/test/nope:1`;
    const err = await Templates.build({ ...daemon.conn, name: 'nope', dockerfile: `FROM base\nRUN true\nFROM ${missing}\nRUN true\n` }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'image_not_found',
      message: expect.stringMatching(new RegExp(`^Dockerfile line 3: FROM ${missing}: `)),
      details: { line: 3 },
    });
    // The CLI ends its progress with the same error in one line (no stack trace), and exits non-zero.
    const dir = mkdtempSync(join(work, 'cli-'));
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${missing}\nRUN true\n`);
    const cli = await runCli(['template', 'build', 'nope', dir], { env: daemon.env });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect(cli.stderr).toMatch(new RegExp(`(^|\n)paddock: Dockerfile line 1: FROM ${missing}: registry [^\n]* has no image [^\n]*\n$`));
    await expect(Templates.get('nope', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
    expect(imageLayers()).toEqual(layersBefore);
    expect(leftovers()).toEqual([]);
    expect(await Sandbox.list({ ...daemon.conn, state: 'all' })).toEqual(sandboxesBefore);
  });

  it('I22: a build FROM a registry an operator policy forbids is denied before anything is pulled (template.build sees context.registries)', async () => {
    const file = join(daemon.stateDir, 'policies', '30-registries.cedar');
    writeFileSync(
      file,
      `@id("no-builds-from-loopback")\n@reason("builds may not start from ${registry.host}")\nforbid (principal, action == Paddock::Action::"template.build", resource)\nwhen { context has registries && context.registries.contains("${registry.host}") };\n`,
    );
    const layersBefore = imageLayers();
    try {
      // The image does not exist: had it been pulled first, the build would fail with image_not_found instead.
      const ask = () => Templates.build({ ...daemon.conn, name: 'forbidden-registry', dockerfile: `FROM ${registry.host}/test/other:1\nRUN true\n` });
      await expect.poll(async () => (await ask().catch((e: { code?: string }) => e.code)) === 'policy_denied', { timeout: 5000 }).toBe(true);
      await expect(ask()).rejects.toMatchObject({ code: 'policy_denied', message: `builds may not start from ${registry.host}` });
    } finally {
      rmSync(file, { force: true });
    }
    expect(imageLayers()).toEqual(layersBefore);
    await expect(Templates.get('forbidden-registry', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
  });

  it('a FROM a private registry asks for a login, then presents the tenant’s stored one', async () => {
    const dockerfile = `FROM ${closed.host}/test/web:1\nRUN cat /etc/os-release > /home/app/copy.txt\n`;
    const refused = await Templates.build({ ...daemon.conn, name: 'private-build', dockerfile }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'registry_auth_failed', message: expect.stringMatching(/^Dockerfile line 1: FROM .*asks for a login/) });
    await Registries.login(closed.host, { username: 'alice', password: 'right-password' }, daemon.conn);
    try {
      await build({ name: 'private-build', dockerfile });
      expect(await inSandbox('private-build', 'cat /home/app/copy.txt')).toBe('ID=paddock-test-image\n');
    } finally {
      await Registries.logout(closed.host, daemon.conn);
    }
  });

  it('I23: a build cancelled while its FROM image’s registry stalls stops skopeo and leaves nothing', async () => {
    // A "registry" that accepts connections and never answers.
    const sockets: Socket[] = [];
    const stall = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(stall.address() as AddressInfo).port}`;
    const sandboxesBefore = await Sandbox.list({ ...daemon.conn, state: 'all' });
    const abort = new AbortController();
    const building = Templates.build({ ...daemon.conn, name: 'stalled', dockerfile: `FROM ${host}/test/web:1\nRUN true\n`, signal: abort.signal }).catch(
      (e: unknown) => e,
    );
    for (let i = 0; i < 200 && !sockets.length; i++) await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    expect(await building).toMatchObject({ code: 'aborted' });
    const skopeoFor = () =>
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.startsWith('skopeo') && line.includes(host));
    for (let i = 0; i < 100 && (leftovers().length || skopeoFor().length); i++) await new Promise((r) => setTimeout(r, 50));
    expect(sockets.length).toBeGreaterThan(0);
    expect(skopeoFor()).toEqual([]);
    expect(leftovers()).toEqual([]);
    await expect(Templates.get('stalled', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
    expect(await Sandbox.list({ ...daemon.conn, state: 'all' })).toEqual(sandboxesBefore);
    for (const socket of sockets) socket.destroy();
    stall.close();
  });
});
