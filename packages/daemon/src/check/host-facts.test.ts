import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/daemon-config.js';
import { hostFacts } from './host-facts.js';

// The host half of `paddock check`, on a made-up host: a folder standing for /
// with the kernel files a weak host would show, and runtimes that do not run.
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'paddock-host-facts-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(path: string, text: string) {
  await mkdir(join(root, path, '..'), { recursive: true });
  await writeFile(join(root, path), text);
}

describe('host facts', () => {
  it('name each weakness of a weak host', async () => {
    const host = join(root, 'weak');
    const stateDir = join(host, 'state');
    await mkdir(stateDir, { recursive: true });
    await chmod(stateDir, 0o777);
    await put('weak/sys/fs/cgroup/cgroup.controllers', 'cpu io\n');
    await put('weak/proc/sys/user/max_user_namespaces', '0\n');
    await put('weak/proc/sys/kernel/seccomp/actions_avail', 'allow log\n');
    const config = loadConfig(['--state-dir', stateDir, '--runc', '/nonexistent/runc', '--runsc', '/nonexistent/runsc'], {});
    const items = await hostFacts({ config, tiers: ['container'], root: host });
    const status = Object.fromEntries(items.map((i) => [i.id, `${i.status}: ${i.detail}`]));
    expect(status['host.cgroup']).toBe('fail: v2, controllers cpu io; missing memory, pids');
    expect(status['host.userns']).toBe('fail: user.max_user_namespaces = 0');
    expect(status['host.seccomp']).toBe('fail: actions allow log; missing errno, kill_thread');
    expect(status['host.runc']).toBe('fail: /nonexistent/runc does not run');
    expect(status['host.runsc']).toMatch(/^warn: not installed/);
    expect(status['host.state-dir']).toMatch(/^fail: .*state is 777/);
    for (const item of items.filter((i) => i.status === 'fail')) expect(item.advice, item.id).toBeTruthy();
  });

  it('report a sound host as ok', async () => {
    const host = join(root, 'sound');
    const stateDir = join(host, 'state');
    await mkdir(stateDir, { recursive: true });
    await chmod(stateDir, 0o711);
    await put('sound/sys/fs/cgroup/cgroup.controllers', 'cpuset cpu io memory pids\n');
    await put('sound/proc/sys/user/max_user_namespaces', '63000\n');
    await put('sound/proc/sys/kernel/seccomp/actions_avail', 'kill_process kill_thread trap errno user_notif trace log allow\n');
    await put('sound/sys/kernel/security/lsm', 'lockdown,capability,landlock,yama,apparmor\n');
    const config = loadConfig(['--state-dir', stateDir, '--runc', process.execPath], {});
    const items = await hostFacts({ config, tiers: ['container'], root: host });
    const status = Object.fromEntries(items.map((i) => [i.id, i.status]));
    expect(status).toMatchObject({
      'host.cgroup': 'ok',
      'host.userns': 'ok',
      'host.seccomp': 'ok',
      'host.runc': 'ok',
      'host.state-dir': 'ok',
      'host.test-weakening': 'ok',
    });
    expect(items.find((i) => i.id === 'host.landlock')?.detail).toMatch(/^active/);
  });
});
