import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { cliPath } from '../../daemon/src/testing/run-cli.js';

// `paddock` as a user runs it, through its own first line (not `node paddock.mjs`):
// that line keeps Node from reading NODE_EXTRA_CA_CERTS at start, and the CLI
// still trusts that file for an https daemon.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let workDir: string;
let cert: string;
let daemon: FastDaemon;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'paddock-extra-ca-'));
  cert = join(workDir, 'cert.pem');
  const subject = ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      join(workDir, 'key.pem'),
      '-out',
      cert,
      ...subject,
    ],
    { stdio: 'pipe' },
  );
  daemon = await startFastDaemon(['--tls-cert', cert, '--tls-key', join(workDir, 'key.pem')]);
});

afterAll(async () => {
  await daemon?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Runs the CLI; `viaNode` starts it as `node paddock.mjs`, else as the program itself. */
function paddock(args: string[], env: Record<string, string>, viaNode = false): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file, argv] = viaNode ? [process.execPath, [cliPath(), ...args]] : [cliPath(), args];
  return new Promise((resolve) => {
    const child = spawn(file, argv, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('NODE_EXTRA_CA_CERTS and the paddock command', () => {
  it('is not read by Node when paddock starts, as it is under `node paddock.mjs`', async () => {
    const env = { NODE_EXTRA_CA_CERTS: join(workDir, 'no-such-file.pem') };
    const asNode = await paddock(['--version'], env, true);
    expect(asNode.stderr).toContain('Ignoring extra certs');
    const asProgram = await paddock(['--version'], env);
    expect(asProgram.code).toBe(0);
    expect(asProgram.stderr).toBe('');
  });

  it("is trusted for an https daemon's certificate, and without it that certificate is refused", async () => {
    expect(daemon.url).toMatch(/^https:/);
    const target = { PADDOCK_URL: daemon.url, PADDOCK_TOKEN: daemon.token };
    const trusted = await paddock(['ls', '--json'], { ...target, NODE_EXTRA_CA_CERTS: cert });
    expect(trusted.stderr).toBe('');
    expect(trusted.code).toBe(0);
    expect(JSON.parse(trusted.stdout)).toEqual([]);
    const untrusted = await paddock(['ls', '--json'], target);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/^paddock: .*certificate/);
  });

  it('says so once and goes on when the file cannot be read', async () => {
    const run = await paddock(['ls', '--json'], { PADDOCK_URL: daemon.url, PADDOCK_TOKEN: daemon.token, NODE_EXTRA_CA_CERTS: join(workDir, 'gone.pem') });
    expect(run.stderr).toMatch(/^paddock: ignoring the certificates in NODE_EXTRA_CA_CERTS \(.*gone\.pem\): ENOENT\n/);
    expect(run.code).not.toBe(0);
  });
});
