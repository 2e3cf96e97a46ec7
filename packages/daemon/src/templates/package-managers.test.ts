import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import { join } from 'node:path';
import { Sandbox, Templates } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { startTestNetwork, type TestNetwork, testUpstreamRange } from '../testing/test-network.js';

// base has pip, venv and npm: they work through the egress proxy against a
// PyPI-style simple index and an npm registry stand-in this test serves on
// test addresses, and fail for a host the sandbox is not allowed.
const address = { pypi: '198.18.99.53', npm: '198.18.99.54' };
let net: TestNetwork;
let daemon: TestDaemon;
let work: string;
const httpServers: Server[] = [];
const requests: string[] = [];

/** A wheel of a one-module package, made by hand (a zip with the metadata pip checks). */
function makeWheel(dir: string): { name: string; bytes: Buffer } {
  const name = 'paddock_demo-0.1-py3-none-any.whl';
  execFileSync('python3', [
    '-c',
    [
      'import base64, hashlib, sys, zipfile',
      'files = {"paddock_demo/__init__.py": b"GREETING = \\"hello from the local index\\"\\n",',
      '  "paddock_demo-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: paddock-demo\\nVersion: 0.1\\n",',
      '  "paddock_demo-0.1.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}',
      'rec = "".join(f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b\'=\').decode()},{len(d)}\\n" for n, d in files.items())',
      'files["paddock_demo-0.1.dist-info/RECORD"] = (rec + "paddock_demo-0.1.dist-info/RECORD,,\\n").encode()',
      'with zipfile.ZipFile(sys.argv[1], "w") as z:',
      '  [z.writestr(n, d) for n, d in files.items()]',
    ].join('\n'),
    join(dir, name),
  ]);
  return { name, bytes: readFileSync(join(dir, name)) };
}

/** An npm package tarball (package/package.json, package/index.js). */
function makeNpmTarball(dir: string): Buffer {
  const pkg = join(dir, 'npm', 'package');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'paddock-demo', version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(pkg, 'index.js'), 'module.exports = "hello from the local registry";\n');
  return execFileSync('tar', ['-cz', '-C', join(dir, 'npm'), 'package']);
}

async function listen(server: Server, host: string): Promise<void> {
  httpServers.push(server);
  await new Promise<void>((resolve) => server.listen(80, host, resolve));
}

beforeAll(async () => {
  work = mkdtempSync('/tmp/paddock-pkg-');
  const wheel = makeWheel(work);
  const tarball = makeNpmTarball(work);
  net = await startTestNetwork(Object.values(address));
  net.setName('pypi.test', address.pypi);
  net.setName('npm.test', address.npm);
  net.setName('refused.test', address.pypi);
  const sha = createHash('sha256').update(wheel.bytes).digest('hex');
  await listen(
    http.createServer((req, res) => {
      requests.push(`pypi ${req.url}`);
      if (req.url === '/simple/paddock-demo/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end(`<!DOCTYPE html><html><body><a href="/files/${wheel.name}#sha256=${sha}">${wheel.name}</a></body></html>`);
      }
      if (req.url === `/files/${wheel.name}`) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(wheel.bytes);
      }
      res.writeHead(404).end();
    }),
    address.pypi,
  );
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  const packument = {
    name: 'paddock-demo',
    'dist-tags': { latest: '1.0.0' },
    versions: {
      '1.0.0': {
        name: 'paddock-demo',
        version: '1.0.0',
        main: 'index.js',
        dist: { tarball: 'http://npm.test/paddock-demo/-/paddock-demo-1.0.0.tgz', integrity },
      },
    },
  };
  await listen(
    http.createServer((req, res) => {
      requests.push(`npm ${req.url}`);
      if (req.url === '/paddock-demo') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(packument));
      }
      if (req.url === '/paddock-demo/-/paddock-demo-1.0.0.tgz') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(tarball);
      }
      res.writeHead(404).end();
    }),
    address.npm,
  );
  daemon = await startTestDaemon(['--dns-server', net.dnsServer, '--egress-allow-range', testUpstreamRange, '--build-allow-domain', 'none']);
});

afterAll(async () => {
  await daemon?.stop();
  for (const server of httpServers) server.close();
  await net?.close();
  rmSync(work, { recursive: true, force: true });
});

const pipInstall = (host: string, venv = '/tmp/venv') =>
  `python3 -m venv ${venv} && ${venv}/bin/pip install --disable-pip-version-check --no-cache-dir --retries 0 --timeout 10 --index-url http://${host}/simple/ --trusted-host ${host} paddock-demo`;
const npmInstall = (host: string, dir = '/tmp/proj') =>
  `mkdir -p ${dir} && cd ${dir} && npm install --cache ${dir}/.npm-cache --no-audit --no-fund --fetch-retries 0 --fetch-timeout 10000 --registry http://${host}/ paddock-demo`;

describe('pip, venv and npm in base, through the egress proxy', () => {
  it('pip install and npm install work from the hosts a sandbox is allowed, and fail for one it is not', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, network: { allow: ['pypi.test', 'npm.test'] } });
    try {
      const pip = await sbx.commands.run(
        ['sh', '-c', `${pipInstall('pypi.test')} && /tmp/venv/bin/python -c 'import paddock_demo; print(paddock_demo.GREETING)'`],
        {
          timeoutMs: 120_000,
        },
      );
      expect(pip.stdout.trim().split('\n').at(-1)).toBe('hello from the local index');
      const npm = await sbx.commands.runAllowingFailure(
        ['sh', '-c', `${npmInstall('npm.test')} && cd /tmp/proj && node -e 'console.log(require("paddock-demo"))'`],
        { timeoutMs: 120_000 },
      );
      expect({ exitCode: npm.exitCode, last: npm.stdout.trim().split('\n').at(-1), stderr: npm.exitCode ? npm.stderr : '' }).toEqual({
        exitCode: 0,
        last: 'hello from the local registry',
        stderr: '',
      });

      const seen = requests.length;
      const refusedPip = await sbx.commands.run(['sh', '-c', `${pipInstall('refused.test', '/tmp/venv2')}`], { timeoutMs: 120_000 }).catch((e: unknown) => e);
      expect(refusedPip).toMatchObject({ exitCode: expect.any(Number) });
      expect((refusedPip as { exitCode: number }).exitCode).not.toBe(0);
      const refusedNpm = await sbx.commands.run(['sh', '-c', `${npmInstall('refused.test', '/tmp/proj2')}`], { timeoutMs: 120_000 }).catch((e: unknown) => e);
      expect((refusedNpm as { exitCode: number }).exitCode).not.toBe(0);
      // The refused host is the index's own address under another name: nothing reached it.
      expect(requests.slice(seen)).toEqual([]);
    } finally {
      await sbx.kill();
    }
  });

  it('a template build installs from the index it is allowed', async () => {
    await Templates.build({
      ...daemon.conn,
      name: 'with-pip',
      dockerfile: `FROM base\nRUN ${pipInstall('pypi.test')}\n`,
      allow: ['pypi.test'],
    });
    const sbx = await Sandbox.create({ ...daemon.conn, template: 'with-pip' });
    try {
      const r = await sbx.commands.run(['/tmp/venv/bin/python', '-c', 'import paddock_demo; print(paddock_demo.GREETING)']);
      expect(r.stdout).toBe('hello from the local index\n');
    } finally {
      await sbx.kill();
    }
  });
});
