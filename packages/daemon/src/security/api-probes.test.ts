import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { BadRequestError, Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { probeRun, probeTiers } from './probe-kit.js';

// Section D of docs/security-probes.md: attacks through the API that touch a
// sandbox (paths, symlinks, argv, uploads, ids), on every tier. Those refused
// before any sandbox is involved, and ids (D8), are in api-request-probes.test.ts (fast tier),
// D2 (tenants) in governance-probes.test.ts.
let daemon: TestDaemon;
const hostSecret = `/tmp/paddock-host-secret-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  daemon = await startTestDaemon(['--max-upload-bytes', String(8 * 1024 * 1024)]);
  writeFileSync(hostSecret, 'host-only secret\n');
});

afterAll(async () => {
  rmSync(hostSecret, { force: true });
  await daemon?.stop();
});

describe.each(probeTiers)('API probes on the %s tier', (tier) => {
  let sbx: Sandbox;
  // D3, D4 and D5 also run the catalogue's probes (@paddock/sdk/probes), as `paddock check --probes` does.
  const probes = probeRun(() => daemon.conn, tier);

  beforeAll(async () => {
    sbx = await Sandbox.create({ ...daemon.conn, tier });
  });

  afterAll(async () => {
    await Promise.all([sbx?.kill().catch(() => {}), probes.close()]);
  });

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

  it('refuses NUL bytes and overlong paths with 400 (D3)', async () => {
    await probes.expectHeld('D3');
    await expect(sbx.files.read('/work/a\u0000b')).rejects.toBeInstanceOf(BadRequestError);
    await expect(sbx.files.read(`/work/${'a'.repeat(5000)}`)).rejects.toMatchObject({ status: 400 });
    await expect(sbx.files.read(`/work/${'a'.repeat(300)}`)).rejects.toMatchObject({ code: 'path_too_long' });
  });

  it('K5: never lets a NUL byte in a field smuggle another agent operation', async () => {
    await sbx.files.write('/work/keep.txt', 'kept');
    const smuggled = 'root\u0000o:remove\u0000r:1\u0000p:/work';
    await expect(sbx.files.makeDir('/tmp/x', { user: smuggled })).rejects.toMatchObject({ status: 400 });
    await expect(sbx.commands.run(['true'], { cwd: `/tmp\u0000o:remove\u0000p:/work` })).rejects.toMatchObject({ status: 400 });
    await expect(sbx.commands.run(['true'], { env: { X: 'a\u0000o:remove' } })).rejects.toMatchObject({ status: 400 });
    expect(await sbx.files.read('/work/keep.txt')).toBe('kept');
  });

  it('never follows a symlink out of the sandbox (D4)', async () => {
    await probes.expectHeld('D4');
    await sbx.commands.run(['ln', '-sf', hostSecret, '/work/to-host']);
    await sbx.commands.run(['ln', '-sf', '/proc/1/root/../../../..' + hostSecret, '/work/via-proc']);
    for (const link of ['/work/to-host', '/work/via-proc']) {
      const r = await sbx.files.read(link).catch((e: unknown) => e);
      // Refused (gVisor will not let even the agent follow /proc/1/root) or confined: never the host's file.
      if (r instanceof Error) expect(r).toMatchObject({ code: expect.stringMatching(/^(file_not_found|permission_denied)$/) });
      else expect(r).not.toContain('host-only secret');
    }
    await sbx.files.write('/work/to-host', 'through the link');
    expect(readFileSync(hostSecret, 'utf8')).toBe('host-only secret\n');
    if (tier === 'container') {
      const list = await sbx.files.list('/proc/1/root/');
      expect(list.map((e) => e.name)).toContain('work');
    }
  });

  it('passes argv literally: shell syntax in an argument is just text (D5)', async () => {
    await probes.expectHeld('D5');
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
