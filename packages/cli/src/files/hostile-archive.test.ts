import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { FileError, Sandbox } from '@paddock/sdk';
import { downloadDir } from '@paddock/sdk/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, startTestDaemon, type TestDaemon } from '../../../daemon/src/testing/test-daemon.js';

// Section H (hostile sandbox output): what `paddock cp` and the SDK unpack on
// the host was made by a sandbox's root, who can chmod 4755, mknod, or put
// its own tar in place of /usr/bin/tar and send any archive at all.
let daemon: TestDaemon;
let work: string;
/** A host folder a crafted symbolic link points at: it must stay empty. */
let bait: string;
let sbx: Sandbox;

beforeAll(async () => {
  daemon = await startTestDaemon();
  work = mkdtempSync('/tmp/paddock-hostile-cp-');
  bait = mkdtempSync('/tmp/paddock-hostile-bait-');
  sbx = await Sandbox.create({ ...daemon.conn, timeoutMs: 10 * 60_000 });
});

afterAll(async () => {
  await sbx?.kill().catch(() => {});
  for (const dir of [work, bait]) if (dir) rmSync(dir, { recursive: true, force: true });
  rmSync('/tmp/paddock-h-escape', { force: true });
  await daemon?.stop();
});

function paddock(args: string[]) {
  const r = spawnSync(process.execPath, [cliMain, ...args], { env: daemon.env, encoding: 'utf8', cwd: work });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every entry under `dir` (not following links), with what a reviewer checks of it. */
function walk(dir: string): Array<{ path: string; mode: number; kind: string; link?: string }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const st = lstatSync(path);
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    const entry = { path, mode: st.mode, kind, link: st.isSymbolicLink() ? readlinkSync(path) : undefined };
    return kind === 'dir' ? [entry, ...walk(path)] : [entry];
  });
}

/** What may hold on the host after any copy from a sandbox, whatever it sent. */
function expectHarmless(dir: string): void {
  const shadow = statSync('/etc/shadow');
  for (const entry of walk(dir)) {
    expect(['file', 'dir', 'symlink'], entry.path).toContain(entry.kind);
    expect(entry.mode & 0o7000, `${entry.path} keeps setuid/setgid/sticky`).toBe(0);
    if (entry.link !== undefined) {
      expect(entry.link.startsWith('/'), entry.path).toBe(false);
      expect(relative(dir, resolve(join(entry.path, '..'), entry.link)).startsWith('..'), entry.path).toBe(false);
      // Read as the kernel reads it (libc's realpath; Node's own reads '..' by the name): '..' after a link leaves from where the link led.
      if (existsSync(entry.path)) expect(relative(realpathSync.native(dir), realpathSync.native(entry.path)).startsWith('..'), entry.path).toBe(false);
    }
    if (entry.kind === 'file') expect(lstatSync(entry.path).ino === shadow.ino && lstatSync(entry.path).dev === shadow.dev).toBe(false);
  }
  expect(readdirSync(bait)).toEqual([]);
  for (const outside of ['/tmp/paddock-h-escape', join(work, 'paddock-h-escape'), '/etc/paddock-h-probe']) expect(existsSync(outside), outside).toBe(false);
}

/** Inside the sandbox: an archive no honest tar makes, and a tar that sends it whatever it is asked. */
async function plantCraftedTar(): Promise<void> {
  const made = await sbx.commands.runAllowingFailure([
    'python3',
    '-c',
    [
      'import io, tarfile, time',
      't = tarfile.open("/tmp/evil.tar", "w", format=tarfile.GNU_FORMAT)',
      'def add(name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link="", major=0, minor=0):',
      '    i = tarfile.TarInfo(name); i.type = kind; i.mode = mode; i.linkname = link',
      '    i.devmajor = major; i.devminor = minor; i.mtime = time.time()',
      '    i.size = len(data) if kind == tarfile.REGTYPE else 0',
      '    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)',
      'add("out/", tarfile.DIRTYPE, mode=0o755)',
      'add("out/ok.txt", data=b"fine")',
      'add("out/chr", tarfile.CHRTYPE, major=1, minor=3)',
      'add("out/suid", data=b"#!/bin/sh\\nid -u\\n", mode=0o4755)',
      'add("out/sgid-dir/", tarfile.DIRTYPE, mode=0o3777)',
      'add("out/blk", tarfile.BLKTYPE, major=8, minor=0)',
      'add("out/fifo", tarfile.FIFOTYPE)',
      'add("out/shadow", tarfile.LNKTYPE, link="/etc/shadow")',
      'add("out/shadow-up", tarfile.LNKTYPE, link="../../../../../../etc/shadow")',
      'add("out/etc", tarfile.SYMTYPE, link="/etc")',
      'add("out/etc/paddock-h-probe", data=b"beneath a link to /etc")',
      `add("out/bait", tarfile.SYMTYPE, link="${bait}")`,
      'add("out/bait/planted", data=b"beneath a link to a host folder")',
      'add("out/up", tarfile.SYMTYPE, link="../../..")',
      'add("out/../../paddock-h-escape", data=b"dot-dot")',
      'add("/tmp/paddock-h-escape", data=b"absolute")',
      'add("out/inside", tarfile.SYMTYPE, link="ok.txt")',
      'add("out/sub/", tarfile.DIRTYPE, mode=0o755)',
      'add("out/d1/", tarfile.DIRTYPE, mode=0o755)',
      'add("out/d1/b", tarfile.SYMTYPE, link="../sub")',
      'add("out/x", tarfile.SYMTYPE, link="d1/b/../..")',
      'add("out/sibling", tarfile.SYMTYPE, link="../beside-the-copy")',
      'add("out/same", tarfile.LNKTYPE, link="out/ok.txt")',
      'add("planted-beside/authorized_keys", data=b"beside the folder asked for")',
      't.close()',
    ].join('\n'),
  ]);
  expect(made.stderr).toBe('');
  const planted = await sbx.commands.runAllowingFailure([
    'sh',
    '-c',
    'mkdir -p /work/out && printf "#!/bin/sh\\ncat /tmp/evil.tar\\n" > /usr/bin/tar && chmod 755 /usr/bin/tar',
  ]);
  expect(planted.exitCode).toBe(0);
}

/** The entries of the crafted archive that may not land, as the archive names them. */
const craftedRefusals = [
  'out/chr',
  'out/blk',
  'out/fifo',
  'out/shadow',
  'out/shadow-up',
  'out/etc',
  'out/bait',
  'out/up',
  'out/../../paddock-h-escape',
  '/tmp/paddock-h-escape',
  'out/x',
  'out/sibling',
];

describe('H. paddock cp and downloadDir unpack what a sandbox made', () => {
  it('H1: a setuid-root file, a setgid or sticky folder and a FIFO made by root in the sandbox: no special bit and no FIFO lands, one line names what was left out', async () => {
    const made = await sbx.commands.runAllowingFailure([
      'sh',
      '-c',
      [
        'mkdir -p /work/real/sticky /work/real/sgid',
        'cp /bin/sh /work/real/rootsh && chmod 4755 /work/real/rootsh',
        'chmod 2755 /work/real/sgid && chmod 1777 /work/real/sticky',
        'printf data > /work/real/plain',
        // A device node where the kernel lets the sandbox's root make one; in a user namespace it does not.
        'mknod /work/real/null c 1 3 2>/dev/null; echo "mknod=$?"',
        'mkfifo /work/real/fifo',
      ].join(' && '),
    ]);
    expect(made.exitCode).toBe(0);
    const copied = paddock(['cp', `${sbx.id}:/work/real`, './real']);
    const real = join(work, 'real');
    expectHarmless(real);
    expect(copied.code).not.toBe(0);
    expect(copied.stderr.split('\n')).toHaveLength(2);
    expect(copied.stderr).toMatch(/^paddock: left out \d entr(y|ies) of the sandbox's archive: .*"real\/fifo" \(a FIFO, not a file, folder or link\)/);
    if (made.stdout.includes('mknod=0')) expect(copied.stderr).toContain('"real/null" (a character device');
    expect(statSync(join(real, 'rootsh')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(real, 'plain'), 'utf8')).toBe('data');
    expect(existsSync(join(real, 'fifo'))).toBe(false);
    // One file on its own keeps its permission bits only.
    expect(paddock(['cp', `${sbx.id}:/work/real/rootsh`, './rootsh']).code).toBe(0);
    expect(statSync(join(work, 'rootsh')).mode & 0o7777).toBe(0o755);
  });

  it('H2–H7: a crafted archive from a replaced tar (devices, FIFO, hard link to /etc/shadow, links out and files beneath them, ../ and absolute paths, entries beside the folder asked for): only what is safe lands, inside the destination, and the CLI says what it left out in one line', async () => {
    await plantCraftedTar();
    // H2: into a new folder (the archive's top folder dropped); H3: into an existing one (kept).
    const fresh = paddock(['cp', `${sbx.id}:/work/out`, './crafted']);
    expectHarmless(join(work, 'crafted'));
    expect(fresh.code).not.toBe(0);
    expect(fresh.stderr.split('\n')).toHaveLength(2);
    expect(fresh.stderr).toMatch(
      /^paddock: left out 12 entries of the sandbox's archive: "out\/chr" \(a character device, not a file, folder or link\), .* and 7 more; the rest is in /,
    );
    mkdirSync(join(work, 'into'));
    const into = paddock(['cp', `${sbx.id}:/work/out`, './into']);
    expect(into.code).not.toBe(0);
    // H4: into a folder that holds other things, nothing lands beside the copy.
    expect(into.stderr).toContain('left out 13 entries');
    expect(existsSync(join(work, 'into', 'planted-beside'))).toBe(false);
    for (const [dir, root] of [
      [join(work, 'crafted'), join(work, 'crafted')],
      [join(work, 'into'), join(work, 'into', 'out')],
    ] as const) {
      // Links stay inside the folder the copy made, not only inside the folder copied into.
      expectHarmless(root);
      expectHarmless(dir);
      expect(readFileSync(join(root, 'ok.txt'), 'utf8')).toBe('fine');
      expect(readFileSync(join(root, 'same'), 'utf8')).toBe('fine');
      expect(readlinkSync(join(root, 'inside'))).toBe('ok.txt');
      expect(statSync(join(root, 'suid')).mode & 0o7777).toBe(0o755);
      // Files named beneath a refused link land in a plain folder of their own, inside.
      expect(lstatSync(join(root, 'etc')).isDirectory()).toBe(true);
      expect(readFileSync(join(root, 'etc', 'paddock-h-probe'), 'utf8')).toBe('beneath a link to /etc');
    }
  });

  it('H8: the SDK’s downloadDir applies the same rules and names every entry it left out in a typed error', async () => {
    await plantCraftedTar();
    const dir = join(work, 'sdk');
    const err = await downloadDir(sbx.files, '/work/out', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).code).toBe('unsafe_archive');
    const refused = (err as FileError).details.refused as Array<{ path: string; reason: string }>;
    expect(refused.map((r) => r.path)).toEqual(craftedRefusals);
    expectHarmless(dir);
    expect(readFileSync(join(dir, 'ok.txt'), 'utf8')).toBe('fine');
    expect(statSync(join(dir, 'suid')).mode & 0o7777).toBe(0o755);
  });

  it('H9: a fake agent in place of the real one (its socket is in a folder the sandbox writes) cannot pass off a setuid mode, an unknown type or broken numbers: a typed error, one line from the CLI', async () => {
    const victim = await Sandbox.create({ ...daemon.conn });
    try {
      await victim.commands.start([
        'python3',
        '-c',
        [
          'import os, socket, struct',
          'def frame(t, p): return t + struct.pack(">I", len(p)) + p',
          'entry = b"\\0".join([b"file", b"4", b"104755", b"nan", b"0", b"0", b"/work/x", b""])',
          'os.unlink("/.paddock/run/agent.sock")',
          's = socket.socket(socket.AF_UNIX); s.bind("/.paddock/run/agent.sock"); s.listen(16)',
          'while True:',
          '    c, _ = s.accept(); c.recv(65536)',
          '    c.sendall(frame(b"D", entry) + frame(b"O", b"evil") + frame(b"X", b"0")); c.close()',
        ].join('\n'),
      ]);
      // Answered by the fake agent once it holds the socket.
      await expect
        .poll(async () => (await victim.files.getInfo('/work/x').catch((e: { code?: string }) => e)) as unknown, { timeout: 10_000, interval: 100 })
        .toMatchObject({ code: 'agent_protocol_error' });
      const copied = paddock(['cp', `${victim.id}:/work/x`, './fake']);
      expect(copied.code).not.toBe(0);
      expect(copied.stderr).toMatch(/^paddock: the sandbox agent sent a malformed entry[^\n]*\n$/);
      expect(existsSync(join(work, 'fake'))).toBe(false);
    } finally {
      await victim.kill().catch(() => {});
    }
  });

  it('H14: what a sandbox writes into an error (its tar’s complaint about an upload) reaches the CLI user as one escaped line, no escape sequences', async () => {
    const planted = await sbx.commands.runAllowingFailure([
      'sh',
      '-c',
      'printf \'#!/bin/sh\\nprintf "\\\\033]0;owned\\\\007\\\\033[2J broken" >&2\\nexit 2\\n\' > /usr/bin/tar && chmod 755 /usr/bin/tar',
    ]);
    expect(planted.exitCode).toBe(0);
    mkdirSync(join(work, 'up'));
    const copied = paddock(['cp', './up', `${sbx.id}:/work/up`]);
    expect(copied.code).not.toBe(0);
    expect(copied.stderr).toContain('\\u001b]0;owned\\u0007\\u001b[2J broken');
    const controls = [...copied.stderr].filter((ch) => (ch.charCodeAt(0) < 0x20 && ch !== '\n') || ch.charCodeAt(0) === 0x7f);
    expect(controls).toEqual([]);
  });
});
