import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectGarbage, Sandbox, Secrets, type TemplateBuildEvent, Templates } from '@paddock/sdk';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { type EchoServer, startTestNetwork, type TestNetwork, testUpstreamRange } from '../testing/test-network.js';

// Dockerfile builds against a real daemon: stages, the build cache, and the
// build's network (section L of docs/security-probes.md). Upstreams are this
// test's own servers on addresses it adds to the host's loopback.
const upstream = { allowed: '198.18.99.50', other: '198.18.99.51', secret: '198.18.99.52' };
let net: TestNetwork;
let daemon: TestDaemon;
const servers: Record<string, EchoServer> = {};
const dirs: string[] = [];

beforeAll(async () => {
  net = await startTestNetwork(Object.values(upstream));
  for (const [name, address] of Object.entries(upstream)) {
    net.setName(`${name}.test`, address);
    servers[`${name}-http`] = await net.serve({ address, port: 80 });
    servers[`${name}-https`] = await net.serve({ address, port: 443, tls: true, names: [`${name}.test`] });
  }
  // No operator defaults: a build reaches only what it names.
  daemon = await startTestDaemon(['--dns-server', net.dnsServer, '--egress-allow-range', testUpstreamRange, '--build-allow-domain', 'none'], {
    NODE_EXTRA_CA_CERTS: net.caFile,
  });
});

afterAll(async () => {
  await daemon?.stop();
  await net?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A context folder with these files (a value of null: a folder; {link}: a symlink). */
function context(files: Record<string, string | null | { link: string }>): string {
  const dir = mkdtempSync('/tmp/paddock-dctx-');
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    if (content === null) mkdirSync(full, { recursive: true });
    else if (typeof content === 'string') writeFileSync(full, content);
    else symlinkSync(content.link, full);
  }
  return dir;
}
const tarOf = (dir: string) => new Uint8Array(execFileSync('tar', ['-c', '-C', dir, '.']));

async function build(options: Omit<Parameters<typeof Templates.build>[0], 'url' | 'token'>): Promise<{ events: TemplateBuildEvent[]; steps: string[] }> {
  const events: TemplateBuildEvent[] = [];
  await Templates.build({ ...daemon.conn, ...options, onEvent: (e) => events.push(e) });
  const steps = events.flatMap((e) => (e.type === 'step' ? [`${e.text}${e.cached ? ' (cached)' : ''}`] : []));
  return { events, steps };
}

async function inSandbox(template: string, script: string, user?: string): Promise<string> {
  const sbx = await Sandbox.create({ ...daemon.conn, template });
  try {
    const r = await sbx.commands.run(['sh', '-c', script], { user });
    return r.stdout;
  } finally {
    await sbx.kill();
  }
}

describe('Dockerfile builds', () => {
  it('builds a multi-stage Dockerfile: ARG and build args, COPY --from (scratch too), --chown, wildcards, .dockerignore, and keeps ENTRYPOINT, CMD, LABEL and EXPOSE', async () => {
    const dir = context({
      '.dockerignore': '# secrets and bulk stay out\nsrc/*.env\nbulk\n',
      'src/main.py': 'print("main")\n',
      'src/local.env': 'TOKEN=leaked\n',
      'bulk/huge.bin': 'x'.repeat(1000),
      'notes.txt': 'notes\n',
      'other.txt': 'other\n',
    });
    const dockerfile = [
      'ARG PARENT=base',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a JavaScript template
      'FROM ${PARENT} AS build',
      'ARG GREETING=hello',
      'ENV APP=/opt/app',
      'WORKDIR $APP',
      'COPY src/ ./src/',
      'COPY *.txt ./',
      'RUN echo "$GREETING from build" > out.txt && ls src > listing.txt && ls / > root.txt',
      'FROM scratch AS files',
      'COPY --from=build /opt/app/out.txt /out.txt',
      'FROM base',
      'LABEL org.example.team="agents" version=2',
      'EXPOSE 8080',
      'COPY --from=build --chown=user:user /opt/app /srv/app',
      'COPY --from=files /out.txt /srv/from-scratch.txt',
      'USER user',
      'WORKDIR /srv/app',
      'ENTRYPOINT ["python3"]',
      'CMD ["-m", "http.server", "8080"]',
    ].join('\n');
    const { steps } = await build({ name: 'multi', dockerfile, context: tarOf(dir), buildArgs: { GREETING: 'hi' } });
    expect(steps).toContain('RUN echo "$GREETING from build" > out.txt && ls src > listing.txt && ls / > root.txt');
    const template = await Templates.get('multi', daemon.conn);
    expect(template).toMatchObject({
      parent: 'base',
      user: 'user',
      workdir: '/srv/app',
      config: { entrypoint: ['python3'], cmd: ['-m', 'http.server', '8080'], labels: { 'org.example.team': 'agents', version: '2' }, exposedPorts: ['8080'] },
    });
    // The build stage's own environment does not leak into the last stage.
    expect(template.env.APP).toBeUndefined();
    const out = await inSandbox(
      'multi',
      'cat out.txt listing.txt /srv/from-scratch.txt; ls; stat -c "%U %n" /srv/app /srv/app/out.txt /srv/app/src/main.py; id -un; pwd',
    );
    expect(out).toBe(
      [
        'hi from build',
        'main.py', // src/local.env was left out by .dockerignore
        'hi from build',
        'listing.txt',
        'notes.txt',
        'other.txt',
        'out.txt',
        'root.txt',
        'src',
        'user /srv/app',
        'user /srv/app/out.txt',
        'user /srv/app/src/main.py',
        'user',
        '/srv/app',
        '',
      ].join('\n'),
    );
    // Nothing of Paddock's build tools stays in the layers.
    expect(await inSandbox('multi', 'cat /srv/app/root.txt; ls -a /')).not.toMatch(/paddock-context|payload/);
  });

  it("starts the template's ENTRYPOINT and CMD in each new sandbox, as its user in its workdir: the server they start answers inside", async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, template: 'multi' });
    try {
      const fetchOut = [
        'import time, urllib.request',
        'for _ in range(200):',
        '    try:',
        "        print(urllib.request.urlopen('http://127.0.0.1:8080/out.txt').read().decode(), end=''); break",
        '    except OSError: time.sleep(0.05)',
      ].join('\n');
      expect((await sbx.commands.run(['python3', '-c', fetchOut])).stdout).toBe('hi from build\n');
      const [server] = await sbx.commands.list();
      expect(server).toMatchObject({ cmd: ['python3', '-m', 'http.server', '8080'], user: 'user', cwd: '/srv/app', state: 'running' });
    } finally {
      await sbx.kill();
    }
  });

  it('rebuilds and removes a template with no layer of its own (only ENV and LABEL) without touching its parent’s layers', async () => {
    await build({ name: 'meta-only', dockerfile: 'FROM base\nENV MODE=meta\nLABEL kind=meta\n' });
    await build({ name: 'meta-only', dockerfile: 'FROM base\nENV MODE=meta2\n' });
    expect(await inSandbox('meta-only', 'echo $MODE')).toBe('meta2\n');
    await Templates.remove('meta-only', daemon.conn);
    expect(await inSandbox('base', 'echo base still starts')).toBe('base still starts\n');
  });

  it('a cancelled build (the client goes, as on Ctrl-C) leaves no template and no sandbox running', async () => {
    const before = await Sandbox.list({ ...daemon.conn, state: 'running' });
    const abort = new AbortController();
    const started = Templates.build({
      ...daemon.conn,
      name: 'cancelled',
      dockerfile: 'FROM base\nRUN echo started && sleep 600\n',
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'log' && e.data.includes('started')) abort.abort();
      },
    });
    await expect(started).rejects.toThrow();
    await expect.poll(async () => (await Sandbox.list({ ...daemon.conn, state: 'running' })).length, { timeout: 20_000 }).toBe(before.length);
    await expect(Templates.get('cancelled', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
  });

  it('L3: COPY cannot reach outside the context: a .. source, a symlink pointing out, or an absolute host path', async () => {
    const outside = mkdtempSync('/tmp/paddock-outside-');
    dirs.push(outside);
    writeFileSync(join(outside, 'host-secret.txt'), 'host secret\n');
    const dir = context({ escape: { link: outside }, up: { link: '../../../..' }, 'ok.txt': 'ok\n' });
    const attempts = [
      'COPY ../host-secret.txt /x',
      'COPY escape/host-secret.txt /x',
      `COPY up${outside}/host-secret.txt /x`,
      `COPY ${outside}/host-secret.txt /x`,
    ];
    for (const line of attempts) {
      const err = await Templates.build({ ...daemon.conn, name: 'escape', dockerfile: `FROM base\n${line}\n`, context: tarOf(dir) }).catch((e: unknown) => e);
      expect(err, line).toMatchObject({ code: 'build_context_refused', message: expect.stringContaining('line 2') });
    }
    await expect(Templates.get('escape', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
  });

  it('L4: a context whose entries climb out (.., absolute names) or hold devices is refused, and nothing lands on the host', async () => {
    const marker = `/tmp/paddock-pwned-${randomBytes(6).toString('hex')}`;
    for (const entry of [{ name: `../../../../..${marker}` }, { name: marker }, { name: 'dev-null', type: 'character-device' as const }]) {
      const tar = pack();
      const chunks: Buffer[] = [];
      tar.on('data', (c) => chunks.push(c as Buffer));
      const done = new Promise<void>((resolve) => tar.on('end', () => resolve()));
      tar.entry({ name: '.dockerignore' }, '');
      if (entry.type) tar.entry({ name: entry.name, type: entry.type, devmajor: 1, devminor: 3 });
      else tar.entry({ name: entry.name }, 'pwned');
      tar.finalize();
      await done;
      const err = await Templates.build({
        ...daemon.conn,
        name: 'climb',
        dockerfile: 'FROM base\nCOPY . /ctx\n',
        context: new Uint8Array(Buffer.concat(chunks)),
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'build_context_refused' });
      expect(existsSync(marker)).toBe(false);
    }
  });

  it('L8: ADD unpacks a hostile archive (entries that climb out, absolute names, a symlink to write through, a device) inside the step’s sandbox: nothing lands on the host', async () => {
    const marker = `/tmp/paddock-l8-${randomBytes(6).toString('hex')}`;
    const attacks: Array<Array<Parameters<ReturnType<typeof pack>['entry']>[0] & { body?: string }>> = [
      [{ name: `../../../../../..${marker}-climb`, body: 'pwned' }],
      [{ name: `${marker}-absolute`, body: 'pwned' }],
      [
        { name: 'link', type: 'symlink', linkname: '/tmp' },
        { name: `link/${marker.slice('/tmp/'.length)}-through-link`, body: 'pwned' },
      ],
      [{ name: 'dev-null', type: 'character-device', devmajor: 1, devminor: 3 }],
    ];
    const outcomes: string[] = [];
    for (const [i, entries] of attacks.entries()) {
      const tar = pack();
      const chunks: Buffer[] = [];
      tar.on('data', (c) => chunks.push(c as Buffer));
      const done = new Promise<void>((resolve) => tar.on('end', () => resolve()));
      for (const { body, ...header } of entries) body === undefined ? tar.entry(header) : tar.entry(header, body);
      tar.finalize();
      await done;
      const dir = context({});
      writeFileSync(join(dir, 'evil.tar'), Buffer.concat(chunks));
      outcomes.push(
        await Templates.build({ ...daemon.conn, name: `l8-${i}`, dockerfile: 'FROM base\nADD evil.tar /opt/evil/\n', context: tarOf(dir) }).then(
          () => 'built',
          (e: Error) => e.message,
        ),
      );
    }
    for (const suffix of ['-climb', '-absolute', '-through-link']) expect(existsSync(`${marker}${suffix}`), suffix).toBe(false);
    // Inside, tar keeps every entry below the destination, and a user namespace makes no device.
    const name = marker.slice('/tmp/'.length);
    expect(outcomes).toEqual(['built', 'built', expect.stringMatching(/^line 2: .*can't create symlink 'link'/), 'built']);
    expect(await inSandbox('l8-0', 'find / -xdev -name "paddock-l8-*" 2>/dev/null')).toBe(`/opt/evil/tmp/${name}-climb\n`);
    expect(await inSandbox('l8-1', 'find / -xdev -name "paddock-l8-*" 2>/dev/null')).toBe(`/opt/evil/tmp/${name}-absolute\n`);
    expect(await inSandbox('l8-3', 'ls -A /opt/evil')).toBe('');
    expect((await daemon.api('/v1/health')).status).toBe(200);
  });

  it('reuses cached steps: a rebuild runs nothing; a changed context file, build arg or --no-cache runs again from that step; gc removes unused cache layers, never used ones', async () => {
    const dir = context({ 'app.txt': 'v1\n' });
    const dockerfile = [
      'FROM base',
      'ARG MODE=dev',
      'RUN head -c 8 /dev/urandom | od -An -tx1 | tr -d " \\n" > /stamp1',
      'COPY app.txt /app/',
      'RUN echo "$MODE" > /app/mode && head -c 8 /dev/urandom | od -An -tx1 | tr -d " \\n" > /stamp2',
      'ENV DONE=1',
    ].join('\n');
    const stamps = () => inSandbox('cached', 'cat /stamp1; echo; cat /stamp2; echo; cat /app/app.txt /app/mode');
    const first = await build({ name: 'cached', dockerfile, context: tarOf(dir) });
    expect(first.steps.filter((s) => s.endsWith('(cached)'))).toEqual([]);
    const [stamp1, stamp2] = (await stamps()).split('\n');

    const second = await build({ name: 'cached', dockerfile, context: tarOf(dir) });
    expect(second.steps.filter((s) => /^(RUN|COPY)/.test(s)).every((s) => s.endsWith('(cached)'))).toBe(true);
    expect(await stamps()).toBe(`${stamp1}\n${stamp2}\nv1\ndev\n`);

    writeFileSync(join(dir, 'app.txt'), 'v2\n');
    const changed = await build({ name: 'cached', dockerfile, context: tarOf(dir) });
    expect(changed.steps.filter((s) => /^(RUN|COPY)/.test(s)).map((s) => s.endsWith('(cached)'))).toEqual([true, false, false]);
    const afterChange = (await stamps()).split('\n');
    expect(afterChange[0]).toBe(stamp1);
    expect(afterChange[1]).not.toBe(stamp2);
    expect(afterChange.slice(2)).toEqual(['v2', 'dev', '']);

    const withArg = await build({ name: 'cached', dockerfile, context: tarOf(dir), buildArgs: { MODE: 'prod' } });
    expect(withArg.steps.filter((s) => /^(RUN|COPY)/.test(s)).map((s) => s.endsWith('(cached)'))).toEqual([false, false, false]);
    expect((await stamps()).split('\n').slice(2)).toEqual(['v2', 'prod', '']);

    const noCache = await build({ name: 'cached', dockerfile, context: tarOf(dir), buildArgs: { MODE: 'prod' }, noCache: true });
    expect(noCache.steps.some((s) => s.endsWith('(cached)'))).toBe(false);

    // gc: the layers of the template as it is now stay (its sandboxes still start), the rest go.
    const { removedCacheLayers } = await collectGarbage(daemon.conn);
    expect(removedCacheLayers.length).toBeGreaterThan(0);
    const template = await Templates.get('cached', daemon.conn);
    const built = template.layers.filter((l) => l.startsWith('c-'));
    expect(built).toHaveLength(3);
    for (const layer of built) expect(existsSync(join(daemon.stateDir, 'layers', layer)), layer).toBe(true);
    expect((await stamps()).split('\n').slice(2)).toEqual(['v2', 'prod', '']);
    // Once the template is gone, its cached layers are unused too.
    await Templates.remove('cached', daemon.conn);
    const second_gc = await collectGarbage(daemon.conn);
    expect(second_gc.removedCacheLayers).toEqual(expect.arrayContaining(built));
    for (const layer of built) expect(existsSync(join(daemon.stateDir, 'layers', layer)), layer).toBe(false);
  });

  it('L1: RUN steps reach only the build’s allowlist, through the egress proxy', async () => {
    const seenOther = servers['other-http']?.seen.length ?? 0;
    await build({
      name: 'net-ok',
      dockerfile: 'FROM base\nRUN curl -sS --max-time 20 http://allowed.test/fetched > /fetched.json\n',
      allow: ['allowed.test'],
    });
    expect(JSON.parse(await inSandbox('net-ok', 'cat /fetched.json'))).toMatchObject({ url: '/fetched', host: 'allowed.test' });
    const err = await Templates.build({
      ...daemon.conn,
      name: 'net-refused',
      dockerfile: 'FROM base\nRUN curl -fsS --max-time 20 http://other.test/x || curl -fsS --max-time 5 http://198.18.99.51/x\n',
      allow: ['allowed.test'],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'build_step_failed', message: expect.stringContaining('line 2') });
    expect(servers['other-http']?.seen.length).toBe(seenOther);
    await expect(Templates.get('net-refused', daemon.conn)).rejects.toMatchObject({ code: 'template_not_found' });
    // Audited as a sandbox's connections are.
    const audit = (await (await daemon.api('/v1/audit?limit=1000')).json()) as {
      records: Array<{ action: string; decision: string; details: { host?: string } }>;
    };
    const connects = audit.records.filter((e) => e.action === 'network.connect');
    expect(connects.some((e) => e.decision === 'deny' && e.details.host === 'other.test')).toBe(true);
    expect(connects.some((e) => e.decision === 'allow' && e.details.host === 'allowed.test')).toBe(true);
  });

  it('L6: the hosts a build asks for are decided by template.build policies before it starts', async () => {
    const file = join(daemon.stateDir, 'policies', '30-builds.cedar');
    writeFileSync(
      file,
      '@id("no-builds-reaching-other")\n@reason("builds may not reach other.test")\nforbid (principal, action == Paddock::Action::"template.build", resource)\nwhen { context has hosts && context.hosts.contains("other.test") };\n',
    );
    try {
      const ask = (host: string) => Templates.build({ ...daemon.conn, name: 'policy-hosts', dockerfile: 'FROM base\nENV X=1\n', allow: [host] });
      await expect.poll(async () => (await ask('other.test').catch((e: { code?: string }) => e.code)) === 'policy_denied', { timeout: 5000 }).toBe(true);
      await expect(ask('other.test')).rejects.toMatchObject({ code: 'policy_denied', message: 'builds may not reach other.test' });
      await expect(ask('allowed.test')).resolves.toMatchObject({ name: 'policy-hosts' });
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('L2: ADD of a URL is fetched through the proxy under the build’s allowlist; a refused host fails the step', async () => {
    const seenOther = servers['other-http']?.seen.length ?? 0;
    await build({ name: 'add-url', dockerfile: 'FROM base\nADD --chown=user:user http://allowed.test/data.json /opt/\n', allow: ['allowed.test'] });
    expect(await inSandbox('add-url', 'stat -c "%U %a" /opt/data.json; cat /opt/data.json')).toMatch(/^user 600\n\{"method":"GET","url":"\/data.json"/);
    const err = await Templates.build({
      ...daemon.conn,
      name: 'add-refused',
      dockerfile: 'FROM base\nADD http://other.test/payload.sh /opt/\n',
      allow: ['allowed.test'],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'build_step_failed', message: expect.stringContaining('line 2') });
    expect(servers['other-http']?.seen.length).toBe(seenOther);
  });

  it('L7: ADD of an https URL checks the server’s certificate: a server the build does not trust fails the step, naming the line', async () => {
    const seen = servers['allowed-https']?.seen.length ?? 0;
    // The test servers' CA is this test's own: nothing in the build trusts it.
    const err = await Templates.build({
      ...daemon.conn,
      name: 'add-untrusted',
      dockerfile: 'FROM base\nADD https://allowed.test/data.json /opt/\n',
      allow: ['allowed.test'],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'build_step_failed', message: expect.stringMatching(/^line 2: .*certificate/) });
    expect(servers['allowed-https']?.seen.length).toBe(seen);
  });

  it('L5: a secret a build uses is a placeholder in its layers, never the value; only its host receives the value', async () => {
    const value = `sk-build-${randomBytes(16).toString('hex')}`;
    await Secrets.set('BUILD_TOKEN', value, { ...daemon.conn, hosts: ['secret.test'] });
    const before = servers['secret-https']?.seen.length ?? 0;
    await build({
      name: 'with-secret',
      dockerfile: [
        'FROM base',
        'RUN echo "$BUILD_TOKEN" > /token.txt && env > /env.txt',
        // The echo server answers with the headers it got: the answer is not kept.
        'RUN curl -sS --max-time 20 -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $BUILD_TOKEN" https://secret.test/login > /status.txt',
      ].join('\n'),
      allow: ['secret.test'],
      secrets: ['BUILD_TOKEN'],
    });
    expect(servers['secret-https']?.seen.slice(before).map((r) => r.headers.authorization)).toEqual([`Bearer ${value}`]);
    expect((await inSandbox('with-secret', 'cat /token.txt')).trim()).toMatch(/^paddock-placeholder-[0-9a-f]{32}$/);
    const template = await Templates.get('with-secret', daemon.conn);
    expect(JSON.stringify(template)).not.toContain(value);
    // Every file of every layer the build made, read on the host.
    const layerFiles = template.layers
      .filter((l) => l.startsWith('c-'))
      .map((l) => execFileSync('sh', ['-c', 'grep -rIl -e "$0" "$1" || true', value, join(daemon.stateDir, 'layers', l)], { encoding: 'utf8' }).trim());
    expect(layerFiles.every((files) => files === '')).toBe(true);
  });
});
