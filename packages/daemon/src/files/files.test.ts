import { randomBytes } from 'node:crypto';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

let daemon: TestDaemon;
let sbx: Sandbox;

beforeAll(async () => {
  daemon = await startTestDaemon();
  sbx = await Sandbox.create({ ...daemon.conn });
});

afterAll(async () => {
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
});
