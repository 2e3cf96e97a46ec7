import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Header, pack } from 'tar-stream';

/** One entry of a test layer: a tar header, and the file's bytes. */
export type LayerEntry = Partial<Header> & { name: string; data?: string | Buffer };

/** A tar of the entries, exactly as given: the malicious ones too. */
export async function layerTar(entries: LayerEntry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (c) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => tar.on('end', () => resolve()));
  for (const { data, ...header } of entries) {
    const body = data === undefined ? undefined : Buffer.from(data);
    await new Promise<void>((resolve, reject) => {
      const h = { uid: 0, gid: 0, mode: header.type === 'directory' ? 0o755 : 0o644, ...header, size: body?.length ?? 0 };
      if (body) tar.entry(h, body, (err) => (err ? reject(err) : resolve()));
      else tar.entry(h, (err) => (err ? reject(err) : resolve())).end(Buffer.alloc(0));
    });
  }
  tar.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** Rewrites the size field of the tar's first header (and its checksum): a claim the data does not back. */
export function claimSize(tar: Buffer, size: number): Buffer {
  const out = Buffer.from(tar);
  out.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  out.fill(' ', 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += out[i] as number;
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return out;
}

export interface ImageConfig {
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Cmd?: string[];
  Entrypoint?: string[];
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Writes an OCI layout of one image (tag `latest`) made of these uncompressed layer tars, gzipped. */
export function writeOciLayout(dir: string, layers: Buffer[], config: ImageConfig, platform = { os: 'linux', architecture: 'amd64' }): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = (b: Buffer) => {
    const digest = sha(b);
    writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), b);
    return { digest, size: b.length };
  };
  const layerDescs = layers.map((tar) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob(gzipSync(tar)) }));
  const configBlob = Buffer.from(JSON.stringify({ ...platform, config, rootfs: { type: 'layers', diff_ids: layers.map(sha) } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(configBlob) },
      layers: layerDescs,
    }),
  );
  const manifestDesc = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...blob(manifest),
    annotations: { 'org.opencontainers.image.ref.name': 'latest' },
  };
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [manifestDesc] }));
}

/** skopeo copy, as a user would run it to push or save an image. */
export function skopeo(...args: string[]): string {
  return execFileSync('skopeo', args, { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
}

export interface TestRegistry {
  host: string;
  stop(): Promise<void>;
}

/** Debian's docker-registry (distribution v2) on a free loopback port, storage in a temp folder; htpasswd basic auth when given a user. */
export async function startRegistry(auth?: { username: string; password: string }): Promise<TestRegistry> {
  const dir = mkdtempSync('/tmp/paddock-registry-');
  const port = await freePort();
  let authConfig = '';
  if (auth) {
    execFileSync('htpasswd', ['-Bbc', join(dir, 'htpasswd'), auth.username, auth.password]);
    authConfig = `auth:\n  htpasswd:\n    realm: paddock-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n${authConfig}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`http://${host}/v2/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (i > 200 || child.exitCode !== null) throw new Error(`docker-registry did not start on ${host}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    async stop() {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The small test image: a static busybox, an /etc of its own, and a second
 * layer that deletes and replaces files of the first; `extraLayers` (tars)
 * go on top, as the benchmarks' bulk of data does.
 */
export async function busyboxImage(dir: string, extraLayers: Buffer[] = []): Promise<void> {
  const busybox = readFileSync('/bin/busybox');
  const tools = ['sh', 'cat', 'env', 'id', 'pwd', 'ls', 'stat', 'echo'];
  const base = await layerTar([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', data: busybox, mode: 0o755 },
    ...tools.map((t): LayerEntry => ({ name: `bin/${t}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234:app:/home/app:/bin/sh\n' },
    { name: 'etc/group', data: 'root:x:0:\napp:x:1234:\n' },
    { name: 'etc/os-release', data: 'ID=paddock-test-image\n' },
    { name: 'etc/removed.txt', data: 'should be deleted by layer 2\n' },
    { name: 'etc/hard.txt', type: 'link', linkname: 'etc/os-release' },
    { name: 'opt/old/', type: 'directory' },
    { name: 'opt/old/a.txt', data: 'hidden by the opaque folder\n' },
    { name: 'usr/bin/', type: 'directory' },
    { name: 'usr/bin/su-like', data: '#!/bin/sh\n', mode: 0o4755 },
    { name: 'srv/', type: 'directory', uid: 1234, gid: 1234 },
    { name: 'home/app/', type: 'directory', uid: 1234, gid: 1234 },
  ]);
  const top = await layerTar([
    { name: 'srv/hello.txt', data: 'hello from the image\n', uid: 1234, gid: 1234 },
    { name: 'etc/.wh.removed.txt' },
    { name: 'opt/old/.wh..wh..opq' },
    { name: 'opt/old/b.txt', data: 'new\n' },
  ]);
  writeOciLayout(dir, [base, top, ...extraLayers], {
    Env: ['PATH=/bin:/usr/bin', 'GREETING=from-the-image'],
    WorkingDir: '/srv',
    User: 'app:app',
    Cmd: ['sh'],
  });
}
