import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { BadRequestError, Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

let daemon: TestDaemon;
let sbx: Sandbox;
const hostSecret = `/tmp/paddock-host-secret-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  daemon = await startTestDaemon(['--max-upload-bytes', String(8 * 1024 * 1024)]);
  sbx = await Sandbox.create({ ...daemon.conn });
  writeFileSync(hostSecret, 'host-only secret\n');
});

afterAll(async () => {
  rmSync(hostSecret, { force: true });
  await daemon?.stop();
});

describe('file API', () => {
  it('writes and reads text and bytes', async () => {
    await sbx.files.write('/work/a.txt', 'hi');
    expect(await sbx.files.read('/work/a.txt')).toBe('hi');
    const bytes = new Uint8Array(randomBytes(70_000));
    await sbx.files.write('/work/bin.dat', bytes);
    expect(Buffer.from(await sbx.files.read('/work/bin.dat', { format: 'bytes' })).equals(Buffer.from(bytes))).toBe(true);
    const seen = await sbx.commands.run(['sha256sum', '/work/bin.dat']);
    expect(seen.stdout.split(' ')[0]).toBe((await import('node:crypto')).createHash('sha256').update(bytes).digest('hex'));
  });

  it('streams a large file both ways', async () => {
    const big = new Uint8Array(randomBytes(6 * 1024 * 1024));
    const entry = await sbx.files.write('/work/big.bin', new Blob([big]).stream());
    expect(entry.size).toBe(big.length);
    const stream = await sbx.files.read('/work/big.bin', { format: 'stream' });
    const chunks: Uint8Array[] = [];
    for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    expect(Buffer.concat(chunks).equals(Buffer.from(big))).toBe(true);
  });

  it('lists, stats, makes directories, renames and removes', async () => {
    await sbx.files.makeDir('/work/dir/sub');
    await sbx.files.write('/work/dir/one.txt', '1');
    const list = await sbx.files.list('/work/dir');
    expect(list.map((e) => [e.name, e.type])).toEqual([
      ['one.txt', 'file'],
      ['sub', 'dir'],
    ]);
    expect(await sbx.files.getInfo('/work/dir/one.txt')).toMatchObject({ type: 'file', size: 1, mode: 0o644, path: '/work/dir/one.txt' });
    await sbx.files.rename('/work/dir/one.txt', '/work/dir/sub/two.txt');
    expect(await sbx.files.exists('/work/dir/one.txt')).toBe(false);
    expect(await sbx.files.read('/work/dir/sub/two.txt')).toBe('1');
    await expect(sbx.files.remove('/work/dir')).rejects.toMatchObject({ code: 'directory_not_empty', status: 409 });
    await sbx.files.remove('/work/dir', { recursive: true });
    expect(await sbx.files.exists('/work/dir')).toBe(false);
  });

  it('writes as the unprivileged user with its permissions', async () => {
    const entry = await sbx.files.write('/work/mine.txt', 'x', { user: 'user' });
    expect(entry).toMatchObject({ uid: 1000, gid: 1000 });
    await expect(sbx.files.write('/root/nope.txt', 'x', { user: 'user' })).rejects.toMatchObject({ code: 'permission_denied', status: 403 });
    await expect(sbx.files.read('/etc/shadow', { user: 'user' })).rejects.toMatchObject({ status: 403 });
  });

  it('gives clear errors for missing files and directories read as files', async () => {
    await expect(sbx.files.read('/work/none')).rejects.toMatchObject({ code: 'file_not_found', status: 404 });
    await expect(sbx.files.read('/work')).rejects.toMatchObject({ code: 'is_a_directory', status: 400 });
    await expect(sbx.files.list('/work/a.txt')).rejects.toMatchObject({ code: 'not_a_directory' });
  });

  it('moves whole trees as tar archives', async () => {
    await sbx.files.write('/work/tree/x/y.txt', 'deep');
    const tar = await sbx.files.downloadArchive('/work/tree');
    const bytes = new Uint8Array(await new Response(tar).arrayBuffer());
    await sbx.files.uploadArchive('/tmp/restored', bytes);
    expect(await sbx.files.read('/tmp/restored/tree/x/y.txt')).toBe('deep');
  });

  it('refuses an oversized upload with 413 and leaves no partial file (D6)', async () => {
    const tooBig = new Uint8Array(9 * 1024 * 1024);
    await expect(sbx.files.write('/work/huge.bin', tooBig)).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
    const streamed = new Blob([tooBig]).stream();
    await expect(sbx.files.write('/work/huge2.bin', streamed)).rejects.toMatchObject({ status: 413 });
    const leftovers = await sbx.commands.run(['sh', '-c', 'ls -A /work | grep -c -e huge -e paddock-upload || true']);
    expect(leftovers.stdout.trim()).toBe('0');
  });
});

describe('path confinement probes', () => {
  it('keeps ../ and absolute host paths inside the sandbox (D3)', async () => {
    const escaped = await sbx.files.read(`/work/../../../../..${hostSecret}`).catch((e: unknown) => e);
    expect(escaped).toMatchObject({ status: 404 });
    await sbx.files.write(`../../..${hostSecret}`, 'overwritten?');
    expect(readFileSync(hostSecret, 'utf8')).toBe('host-only secret\n');
    // The write landed inside the sandbox at the same path, nowhere else.
    expect(await sbx.files.read(hostSecret)).toBe('overwritten?');
    const dbRead = await sbx.files.read(`${daemon.stateDir}/paddock.db`).catch((e: unknown) => e);
    expect(dbRead).toMatchObject({ status: 404 });
  });

  it('never lets a NUL byte in a field smuggle another agent operation', async () => {
    await sbx.files.write('/work/keep.txt', 'kept');
    const smuggled = 'root\u0000o:remove\u0000r:1\u0000p:/work';
    await expect(sbx.files.makeDir('/tmp/x', { user: smuggled })).rejects.toMatchObject({ status: 400 });
    await expect(sbx.commands.run(['true'], { cwd: `/tmp\u0000o:remove\u0000p:/work` })).rejects.toMatchObject({ status: 400 });
    await expect(sbx.commands.run(['true'], { env: { X: 'a\u0000o:remove' } })).rejects.toMatchObject({ status: 400 });
    expect(await sbx.files.read('/work/keep.txt')).toBe('kept');
  });

  it('refuses NUL bytes and overlong paths with 400 (D3)', async () => {
    await expect(sbx.files.read('/work/a\u0000b')).rejects.toBeInstanceOf(BadRequestError);
    await expect(sbx.files.read(`/work/${'a'.repeat(5000)}`)).rejects.toMatchObject({ status: 400 });
    await expect(sbx.files.read(`/work/${'a'.repeat(300)}`)).rejects.toMatchObject({ code: 'path_too_long' });
  });

  it('never follows a symlink out of the sandbox (D4)', async () => {
    await sbx.commands.run(['ln', '-sf', hostSecret, '/work/to-host']);
    await sbx.commands.run(['ln', '-sf', '/proc/1/root/../../../..' + hostSecret, '/work/via-proc']);
    for (const link of ['/work/to-host', '/work/via-proc']) {
      const r = await sbx.files.read(link).catch((e: unknown) => e);
      if (r instanceof Error) expect(r).toMatchObject({ status: 404, code: 'file_not_found' });
      else expect(r).not.toContain('host-only secret');
    }
    await sbx.files.write('/work/to-host', 'through the link');
    expect(readFileSync(hostSecret, 'utf8')).toBe('host-only secret\n');
    const list = await sbx.files.list('/proc/1/root/');
    expect(list.map((e) => e.name)).toContain('work');
  });
});
