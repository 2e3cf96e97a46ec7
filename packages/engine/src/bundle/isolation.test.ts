import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../../daemon/src/testing/test-daemon.js';
import { idMapping } from './isolation-settings.js';

// Container-tier isolation claims from SECURITY.md, attacked from inside.
// The full probe suite (sections A, B, D on every tier) is the Security issue's.
let daemon: TestDaemon;
let a: Sandbox;
let b: Sandbox;

beforeAll(async () => {
  daemon = await startTestDaemon();
  [a, b] = await Promise.all([Sandbox.create({ ...daemon.conn }), Sandbox.create({ ...daemon.conn })]);
});

afterAll(async () => {
  await daemon?.stop();
});

const sh = (sbx: Sandbox, script: string, user?: string) => sbx.commands.runAllowingFailure(['sh', '-c', script], { user });

describe('container tier isolation', () => {
  it('shows only the sandbox’s own processes, with tini as PID 1 (A1)', async () => {
    const r = await sh(a, 'ps -eo pid=,comm= | sort -n');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(lines[0]).toBe('1 tini');
    expect(lines.every((l) => /^(\d+) (tini|paddock-agent|sh|ps|sort)$/.test(l))).toBe(true);
  });

  it('maps root inside to an unprivileged host uid (A5)', async () => {
    await a.files.write('/work/root-made', 'x');
    const host = statSync(`${daemon.stateDir}/sandboxes/${a.id}/scratch/upper/work/root-made`);
    expect(host.uid).toBe(idMapping.hostId);
    // The host never honours a setuid bit or a device a sandbox planted in its rootfs.
    await sh(a, 'cp /bin/sh /tmp/suid && chmod 4755 /tmp/suid');
    const rootfs = `${daemon.stateDir}/sandboxes/${a.id}/rootfs`;
    const mountLine = (await import('node:fs'))
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === rootfs);
    expect(mountLine?.split(' ')[5]).toMatch(/nosuid/);
    expect(mountLine?.split(' ')[5]).toMatch(/nodev/);
    const map = await sh(a, 'cat /proc/self/uid_map');
    expect(map.stdout.trim().split(/\s+/)).toEqual(['0', String(idMapping.hostId), String(idMapping.size)]);
  });

  it('gives the unprivileged user no capabilities and root only a small set (A4)', async () => {
    const user = await sh(a, 'grep -E "^Cap(Eff|Prm)" /proc/self/status', 'user');
    expect(user.stdout).toBe('CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n');
    const root = await sh(a, 'grep CapEff /proc/self/status');
    const caps = BigInt(`0x${root.stdout.split('\t')[1]?.trim()}`);
    const CAP_SYS_ADMIN = 21n;
    const CAP_NET_ADMIN = 12n;
    const CAP_SYS_MODULE = 16n;
    for (const cap of [CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_MODULE]) expect((caps >> cap) & 1n).toBe(0n);
    for (const cmd of ['mount -t tmpfs none /mnt', 'swapon /dev/null', 'date -s 2000-01-01', 'reboot -f']) {
      expect((await sh(a, `${cmd} 2>&1`)).exitCode).not.toBe(0);
    }
  });

  it('keeps kernel knobs read-only (A6)', async () => {
    const r = await sh(a, 'echo "|/tmp/x" > /proc/sys/kernel/core_pattern; echo rc=$?; echo c > /proc/sysrq-trigger; echo rc=$?');
    expect(r.stdout).toMatch(/^rc=[12]\nrc=[12]\n$/);
    expect(execFileSync('cat', ['/proc/sys/kernel/core_pattern']).toString()).not.toContain('/tmp/x');
  });

  it('refuses nested namespaces (A8)', async () => {
    for (const cmd of ['unshare -U true', 'unshare -m true', 'unshare -n true']) {
      expect((await sh(a, `${cmd} 2>&1`)).exitCode).not.toBe(0);
    }
  });

  it('keeps hostname, files and processes private between sandboxes (A10, A11)', async () => {
    expect((await sh(a, 'hostname')).stdout.trim()).toBe(a.id);
    expect((await sh(b, 'hostname')).stdout.trim()).toBe(b.id);
    await a.files.write('/work/only-in-a', 'a');
    expect(await b.files.exists('/work/only-in-a')).toBe(false);
    await a.commands.start(['sleep', '300']);
    expect((await sh(b, 'pgrep -x sleep || echo none')).stdout.trim()).toBe('none');
  });

  it('never changes the template for other sandboxes (A3)', async () => {
    const vandal = await Sandbox.create({ ...daemon.conn });
    await sh(vandal, 'rm -rf /usr/bin/python3 /etc/passwd; echo pwned > /etc/motd');
    expect((await sh(vandal, 'id -u; cat /etc/motd')).stdout).toBe('0\npwned\n');
    const fresh = await Sandbox.create({ ...daemon.conn });
    expect((await sh(fresh, 'test -x /usr/bin/python3 && grep -c root /etc/passwd && cat /etc/motd')).stdout).not.toContain('pwned');
    expect((await sh(fresh, 'test -x /usr/bin/python3 && echo ok')).stdout).toBe('ok\n');
    await Promise.all([fresh.kill(), vandal.kill()]);
  });

  it('refuses the dangerous syscalls (A7)', async () => {
    const probe = [
      'import ctypes, os',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'for name, nr in [("bpf", 321), ("perf_event_open", 298), ("keyctl", 250), ("userfaultfd", 323), ("kexec_load", 246), ("open_by_handle_at", 304), ("io_uring_setup", 425)]:',
      '    rc = libc.syscall(nr, 0, 0, 0, 0, 0)',
      '    print(name, rc, ctypes.get_errno())',
    ].join('\n');
    const r = await a.commands.run(['python3', '-c', probe]);
    for (const line of r.stdout.trim().split('\n')) expect(line).toMatch(/ -1 1$/);
  });
});

describe('the agent channel', () => {
  it('never lets a sandbox point the daemon at a host socket (agent socket swapped for a symlink)', async () => {
    const { createServer } = await import('node:net');
    const { rmSync } = await import('node:fs');
    const hostSocket = `/tmp/paddock-host-sock-${process.pid}`;
    rmSync(hostSocket, { force: true });
    let connections = 0;
    const server = createServer((c) => {
      connections++;
      c.destroy();
    }).listen(hostSocket);
    await new Promise((r) => server.once('listening', r));
    try {
      const victim = await Sandbox.create({ ...daemon.conn });
      await sh(victim, `rm /.paddock/run/agent.sock && ln -s ${hostSocket} /.paddock/run/agent.sock`);
      const err = await victim.commands.run(['true']).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'sandbox_exited' });
      expect(connections).toBe(0);
      // The daemon still answers and still cleans the broken sandbox up.
      await victim.kill();
      expect((await sh(a, 'echo ok')).stdout).toBe('ok\n');
    } finally {
      server.close();
      rmSync(hostSocket, { force: true });
    }
  });
});

describe('a fake agent', () => {
  it('cannot hang the daemon: calls time out and a restart still comes up', async () => {
    const victim = await Sandbox.create({ ...daemon.conn });
    // Root inside replaces the agent with a listener that answers one byte, then nothing.
    const fake = [
      'import os, socket, time',
      'os.unlink("/.paddock/run/agent.sock")',
      's = socket.socket(socket.AF_UNIX); s.bind("/.paddock/run/agent.sock"); s.listen(16)',
      'conns = []',
      'while True:',
      '    c, _ = s.accept(); c.send(b"D"); conns.append(c)',
    ].join('\n');
    await victim.commands.start(['python3', '-c', fake]);
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    await expect(victim.files.list('/work', { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(45_000);
    await daemon.crash();
    await daemon.restart();
    const info = await (await daemon.api(`/v1/sandboxes/${victim.id}`)).json();
    expect(info.state).toBe('killed');
    expect(info.endReason).toBe('lost');
    // The rest of the daemon's sandboxes came back with it.
    expect((await (await daemon.api(`/v1/sandboxes/${a.id}`)).json()).state).toBe('running');
  });
});
