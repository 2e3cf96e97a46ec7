import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonSettings } from '../config/daemon-settings.js';
import { cleanupStateDir, mountsUnder } from '../testing/cleanup.js';
import { daemonMain, startTestDaemon, type TestDaemon, testRootPrefix } from '../testing/test-daemon.js';

// Section G: the paddockd process itself (its command line, its settings, its
// state folder). What its API makes of settings and requests, on a daemon of
// the fast tier: daemon-api-probes.test.ts.
let daemon: TestDaemon;
let sbx: Sandbox;

beforeAll(async () => {
  daemon = await startTestDaemon();
  sbx = await Sandbox.create({ ...daemon.conn });
});

afterAll(async () => {
  await sbx?.kill().catch(() => {});
  await daemon?.stop();
});

/** Runs paddockd as an operator would; a daemon that starts serving instead is stopped after 20 s. */
function paddockd(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [daemonMain, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, PADDOCK_CACHE_DIR: process.env.PADDOCK_CACHE_DIR ?? '/var/cache/paddock', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The first daemon and its sandbox are as they were: same pid, the sandbox runs commands. */
async function expectUntouched() {
  expect((await daemon.api('/v1/health')).status).toBe(200);
  expect(daemon.pid).toBeGreaterThan(0);
  expect(() => process.kill(daemon.pid, 0)).not.toThrow();
  expect((await daemon.api(`/v1/sandboxes/${sbx.id}`).then((r) => r.json())) as { state: string }).toMatchObject({ state: 'running' });
  expect((await sbx.commands.run(['echo', 'still here'])).stdout).toBe('still here\n');
}

describe('paddockd on a live state folder', () => {
  it.each([['--help'], ['-h'], ['help']])('G1: paddockd %s prints help and exits 0, touching nothing', async (arg) => {
    const r = paddockd([arg, '--state-dir', daemon.stateDir, '--port', '0']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: paddockd/);
    // Every setting, with its variable and default, as the settings table has them.
    const text = r.stdout.replace(/\s+/g, ' ');
    for (const spec of Object.values(daemonSettings)) {
      expect(text).toContain(`--${spec.flag} ${spec.value}`);
      expect(text).toContain(`[env ${spec.env}]`);
    }
    expect(text).toContain('(default: 10m)');
    await expectUntouched();
  });

  it('G2: a second daemon on the same state folder refuses with one line naming the holder’s pid', async () => {
    const r = paddockd(['--state-dir', daemon.stateDir, '--port', '0']);
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`pid ${daemon.pid}`);
    expect(r.stderr).toContain(daemon.stateDir);
    await expectUntouched();
  });
});

describe('a start that fails', () => {
  it('G4: paddockd on a port already in use exits with one line, leaving nothing open; the next daemon on the folder starts', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const stateDir = await mkdtemp(`${testRootPrefix}port-taken-`);
    try {
      // It reaches the port only once everything else is open: telemetry, the
      // policy watcher, audit signing, pools, the database, the folder's lock.
      // The process must end by itself (main has no process.exit on this path).
      const r = paddockd(['--state-dir', stateDir, '--port', String(port)]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([`paddockd: 127.0.0.1:${port} is already in use; stop what listens there or give --port another`]);
      expect(existsSync(join(stateDir, 'endpoint.json'))).toBe(false);
      expect(existsSync(join(stateDir, 'paddockd.pid'))).toBe(false);
      expect(mountsUnder(stateDir)).toEqual([]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // The lock was let go: a daemon on the same folder starts and serves.
    const next = spawn(process.execPath, [daemonMain, '--state-dir', stateDir, '--port', '0'], {
      stdio: 'ignore',
      env: { ...process.env, PADDOCK_CACHE_DIR: process.env.PADDOCK_CACHE_DIR ?? '/var/cache/paddock' },
    });
    const exited = new Promise<number | null>((resolve) => next.once('exit', (code) => resolve(code)));
    try {
      const endpoint = await waitForEndpoint(stateDir, next);
      expect(endpoint.pid).toBe(next.pid);
      expect((await fetch(`${endpoint.url}/v1/health`)).status).toBe(200);
    } finally {
      next.kill('SIGTERM');
      expect(await exited).toBe(0);
      await cleanupStateDir(stateDir);
    }
  });
});

/** The endpoint a daemon writes once it listens; throws if the daemon exits first. */
async function waitForEndpoint(stateDir: string, child: ChildProcess): Promise<{ url: string; pid: number }> {
  const file = join(stateDir, 'endpoint.json');
  for (let i = 0; i < 1500; i++) {
    if (child.exitCode !== null) throw new Error(`paddockd exited with ${child.exitCode}`);
    const text = existsSync(file) ? await readFile(file, 'utf8').catch(() => null) : null;
    if (text) return JSON.parse(text) as { url: string; pid: number };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('paddockd did not start');
}

describe('settings are checked at start', () => {
  it.each([
    [{ PADDOCK_APPROVAL_TTL_MS: 'abc' }, 'PADDOCK_APPROVAL_TTL_MS'],
    [{ PADDOCK_AUDIT_SIGN_INTERVAL_MS: '10 minutes' }, 'PADDOCK_AUDIT_SIGN_INTERVAL_MS'],
    [{ PADDOCK_MAX_UPLOAD_BYTES: 'much' }, 'PADDOCK_MAX_UPLOAD_BYTES'],
    [{ PADDOCK_PORT: 'http' }, 'PADDOCK_PORT'],
    [{ PADDOCK_OVERCOMMIT: 'yes' }, 'PADDOCK_OVERCOMMIT'],
  ])('G3: %o stops paddockd before it starts, with one line naming the setting', (env, name) => {
    const stateDir = `${testRootPrefix}never-${process.pid}-${name}`;
    // --port would win over PADDOCK_PORT.
    const r = paddockd(['--state-dir', stateDir, ...(name === 'PADDOCK_PORT' ? [] : ['--port', '0'])], env);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^paddockd: ${name}: `));
    expect(existsSync(stateDir)).toBe(false);
  });
});
