import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckOutputSchema } from '@paddock/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { runCli } from '../../daemon/src/testing/run-cli.js';

// `paddock check` without probes: what the daemon reads of its host, settings
// and policies, as an operator sees it (table, JSON, HTML, exit code). The
// probes run against real sandboxes: daemon/src/check/check-probes.test.ts.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let healthy: FastDaemon;
let workDir: string;

beforeAll(async () => {
  healthy = await startFastDaemon();
  workDir = await mkdtemp(join(tmpdir(), 'paddock-check-cli-'));
});

afterAll(async () => {
  await healthy?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const check = (daemon: FastDaemon, args: string[] = [], token = daemon.token) =>
  runCli(['check', ...args], { env: { ...process.env, PADDOCK_URL: daemon.url, PADDOCK_TOKEN: token } });

async function checkJson(daemon: FastDaemon) {
  const run = await check(daemon, ['--json']);
  return { code: run.code, report: CheckOutputSchema.parse(JSON.parse(run.stdout)) };
}

const byId = (items: Array<{ id: string; status: string }>, id: string) => items.find((i) => i.id === id);

describe('paddock check', () => {
  it('reports host, settings and policies of a healthy daemon as JSON, nothing failed, exit 0', async () => {
    const { code, report } = await checkJson(healthy);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.probes).toBeUndefined();
    expect(report.host.map((i) => i.id)).toEqual(
      expect.arrayContaining([
        'host.kernel',
        'host.cgroup',
        'host.userns',
        'host.seccomp',
        'host.landlock',
        'host.runc',
        'host.runsc',
        'host.state-dir',
        'host.test-weakening',
      ]),
    );
    expect(byId(report.host, 'host.test-weakening')?.status).toBe('ok');
    expect(byId(report.config, 'config.listen')).toMatchObject({ status: 'ok' });
    // The shipped policies keep their guards.
    for (const id of ['policy.agent-mints-admin', 'policy.agent-approves', 'policy.fetch-execute', 'policy.agent-writes-system']) {
      expect(byId(report.policies, id), id).toMatchObject({ status: 'ok' });
    }
    expect(byId(report.policies, 'policy.permits-everything')).toBeUndefined();
    for (const item of [...report.host, ...report.config, ...report.policies]) expect(item.status).not.toBe('fail');
  });

  it('prints a plain table when stdout is no terminal, and writes a self-contained HTML file', async () => {
    const html = join(workDir, 'report.html');
    const run = await check(healthy, ['--html', html]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^HOST\n/);
    expect(run.stdout).toContain('\nCONFIG\n');
    expect(run.stdout).toContain('\nPOLICIES\n');
    expect(run.stdout).toMatch(/\npassed: 0 fail, \d+ warn\n$/);
    expect(run.stdout).not.toContain('\x1b[');
    const page = await readFile(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('agent running downloaded code');
    // Nothing it loads from elsewhere: no script, stylesheet link, image, frame or remote URL.
    expect(page).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import|https?:\/\//i);
  });

  it('refuses a token below admin with a one-line error', async () => {
    const created = await healthy.api('/v1/tokens', {
      method: 'POST',
      body: JSON.stringify({ role: 'operator' }),
      headers: { 'content-type': 'application/json' },
    });
    const { token } = (await created.json()) as { token: string };
    const run = await check(healthy, [], token);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('system.check needs the admin role');
  });

  it('refuses --probe and --tier without --probes (exit 2)', async () => {
    expect(await check(healthy, ['--tier', 'gvisor'])).toMatchObject({ code: 2 });
    expect(await check(healthy, ['--probe', 'A7'])).toMatchObject({ code: 2 });
  });

  it('names a policy set that permits everything, and the guards it lost; exit 1', async () => {
    const policies = join(workDir, 'permissive');
    await rm(policies, { recursive: true, force: true });
    await mkdir(policies);
    await writeFile(join(policies, 'all.cedar'), 'permit (principal, action, resource);\n');
    const weak = await startFastDaemon(['--policies', policies]);
    try {
      const { code, report } = await checkJson(weak);
      expect(code).toBe(1);
      expect(report.ok).toBe(false);
      expect(byId(report.policies, 'policy.permits-everything')).toMatchObject({ status: 'fail' });
      expect(byId(report.policies, 'policy.fetch-execute')).toMatchObject({ status: 'fail', detail: expect.stringContaining('downloads') });
      expect(byId(report.policies, 'policy.agent-writes-system')).toMatchObject({ status: 'fail' });
      // Role boundaries hold whatever the policies say.
      expect(byId(report.policies, 'policy.agent-mints-admin')).toMatchObject({ status: 'ok' });
      const table = await check(weak);
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/FAIL\s+policies refuse nothing/);
      expect(table.stdout).toMatch(/\nFAILED: 3 fail/);
    } finally {
      await weak.stop();
    }
  });

  it('names a daemon listening on 0.0.0.0 without TLS; exit 1', async () => {
    // Bound to every address for this test only, on a free port, and stopped at its end.
    const open = await startFastDaemon(['--host', '0.0.0.0']);
    try {
      const { code, report } = await checkJson(open);
      expect(code).toBe(1);
      expect(byId(report.config, 'config.listen')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^listening on 0\.0\.0\.0:\d+ without TLS/) });
    } finally {
      await open.stop();
    }
  });

  it('takes a daemon on 0.0.0.0 with its own certificate as listening safely', async () => {
    const cert = join(workDir, 'cert.pem');
    const key = join(workDir, 'key.pem');
    const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-keyout', key, '-out', cert, ...subject],
      { stdio: 'pipe' },
    );
    const open = await startFastDaemon(['--host', '0.0.0.0', '--tls-cert', cert, '--tls-key', key]);
    try {
      expect(open.url).toMatch(/^https:/);
      const run = await runCli(['check', '--json'], {
        env: { ...process.env, PADDOCK_URL: open.url.replace('0.0.0.0', '127.0.0.1'), PADDOCK_TOKEN: open.token, PADDOCK_CA_FILE: cert },
      });
      expect(run.stderr).toBe('');
      const report = CheckOutputSchema.parse(JSON.parse(run.stdout));
      expect(byId(report.config, 'config.listen')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^0\.0\.0\.0:\d+ over HTTPS/) });
    } finally {
      await open.stop();
    }
  });

  it('warns of overcommit, insecure registries and self-approval for all', async () => {
    const lax = await startFastDaemon(['--overcommit', '2', '--insecure-registry', 'registry.lan:5000', '--self-approval', 'on']);
    try {
      const { report } = await checkJson(lax);
      expect(byId(report.config, 'config.overcommit')).toMatchObject({ status: 'warn' });
      expect(byId(report.config, 'config.insecure-registries')).toMatchObject({ status: 'warn', detail: expect.stringContaining('registry.lan:5000') });
      expect(byId(report.config, 'config.self-approval')).toMatchObject({ status: 'warn' });
      expect(byId(report.policies, 'policy.self-approval')).toMatchObject({ status: 'warn' });
    } finally {
      await lax.stop();
    }
  });
});
