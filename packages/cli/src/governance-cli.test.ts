import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { untilHeadSigned } from '../../daemon/src/testing/audit-wait.js';
import { type FastDaemon, startFastDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { cliPath, runCli } from '../../daemon/src/testing/run-cli.js';

// A test here starts the CLI, a process, many times: on a loaded machine that
// takes longer than the fast tier's in-process tests are given.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let daemon: FastDaemon;
// Tenant tokens whose sandboxes must go before the daemon stops, however a test ends.
const tenantTokens: string[] = [];

beforeAll(async () => {
  daemon = await startFastDaemon();
});

afterAll(async () => {
  for (const token of tenantTokens) await paddock(['kill', '--all'], token);
  await daemon?.stop();
});

/** Runs the bundled CLI against the test daemon (in this process: not spawnSync), as admin unless another token is given. */
function paddock(args: string[], token?: string) {
  return runCli(args, { env: token ? { ...daemon.env, PADDOCK_TOKEN: token } : daemon.env });
}

/** A new tenant and a token of `role` for it; the secret is all that stdout holds. */
async function tenantWithToken(name: string, quotaFlags: string[] = [], role = 'agent'): Promise<string> {
  expect(await paddock(['tenant', 'create', name, ...quotaFlags])).toEqual({ code: 0, stdout: `${name}\n`, stderr: '' });
  const created = await paddock(['token', 'create', '--tenant', name, '--role', role, '--name', `${name} test`]);
  expect(created.code).toBe(0);
  const token = created.stdout.trim();
  expect(created.stdout).toBe(`${token}\n`);
  expect(created.stderr.trim()).not.toBe('');
  tenantTokens.push(token);
  return token;
}

function expectOneLineFailure(r: { code: number | null; stderr: string }): void {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/^paddock: [^\n]+\n$/);
}

describe('paddock tenant, token and audit', () => {
  it('keeps a tenant’s sandboxes to itself', async () => {
    const adminSandbox = (await paddock(['create'])).stdout.trim();
    expect(adminSandbox).toMatch(/^sb-/);
    const token = await tenantWithToken('team-a', ['--max-sandboxes', '5', '--max-memory', '4g', '--max-cpus', '4']);

    expect((await paddock(['whoami'], token)).stdout).toMatch(/^\S+@team-a \(agent\) for agent:tok_\w+\n$/);
    expect(await paddock(['run', '--', 'echo', 'hi'], token)).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
    const own = (await paddock(['create'], token)).stdout.trim();
    expect((await paddock(['ls', '-q'], token)).stdout).toBe(`${own}\n`);
    const hidden = await paddock(['inspect', adminSandbox], token);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toMatch(/^paddock: .*not found\n$/);

    const listed = await paddock(['tenant', 'ls']);
    expect(listed.stdout.split('\n')[0]).toMatch(/^NAME\s+SANDBOXES\s+MEMORY\s+CPUS$/);
    expect(listed.stdout).toMatch(/^team-a\s+1\/5\s+\S+\/4GiB\s+\S+\/4$/m);
    expect(JSON.parse((await paddock(['tenant', 'inspect', 'team-a'])).stdout)).toMatchObject({
      name: 'team-a',
      maxSandboxes: 5,
      maxMemoryMiB: 4096,
      maxSnapshots: null,
    });
    expect((await paddock(['tenant', 'update', 'team-a', '--max-cpus', 'none'])).code).toBe(0);
    expect(JSON.parse((await paddock(['tenant', 'inspect', 'team-a'])).stdout)).toMatchObject({ maxCpus: null, maxSandboxes: 5 });

    expectOneLineFailure(await paddock(['tenant', 'rm', 'team-a']));
    expect((await paddock(['kill', own], token)).code).toBe(0);
    expect((await paddock(['kill', adminSandbox])).code).toBe(0);
  });

  it('refuses a sandbox beyond the tenant’s quota with one line', async () => {
    const token = await tenantWithToken('team-q', ['--max-sandboxes', '1']);
    const first = await paddock(['create'], token);
    expect(first.code).toBe(0);
    const second = await paddock(['create'], token);
    expectOneLineFailure(second);
    // As `docker run` when it gets no container: 125, and the line names the tenant and its limit.
    expect(second.code).toBe(125);
    expect(second.stderr).toMatch(/^paddock: cannot create a sandbox: quota exceeded: .*team-q.*at most 1 live sandbox\b/);
    expect((await paddock(['ls', '-q'], token)).stdout).toBe(first.stdout);
    expect((await paddock(['kill', first.stdout.trim()], token)).code).toBe(0);
  });

  it('keeps tenant management to admins', async () => {
    const token = await tenantWithToken('team-r');
    expectOneLineFailure(await paddock(['tenant', 'create', 'sneaky'], token));
    expect((await paddock(['tenant', 'ls', '--json'])).stdout).not.toContain('sneaky');
  });

  it('stops a revoked token at once', async () => {
    const token = await tenantWithToken('team-t');
    expect((await paddock(['ls', '-q'], token)).code).toBe(0);
    const id = JSON.parse((await paddock(['token', 'ls', '--tenant', 'team-t', '--json'])).stdout)[0].id;
    const table = await paddock(['token', 'ls', '--tenant', 'team-t']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+TENANT\s+ROLE\s+OWNER\s+NAME\s+SCOPE\s+EXPIRES\s+CREATED\s+REVOKED$/);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+team-t\\s+agent\\s+agent:${id}\\s+team-t test\\s+-\\s+-\\s+.*\\s-$`, 'm'));
    expect(await paddock(['token', 'revoke', id])).toEqual({ code: 0, stdout: `${id}\n`, stderr: '' });
    const refused = await paddock(['ls', '-q'], token);
    expectOneLineFailure(refused);
    expect(refused.stderr).toMatch(/unauthorized|invalid|token/i);
    expect((await paddock(['token', 'ls', '--tenant', 'team-t'])).stdout).toMatch(new RegExp(`^${id}\\s.*(ago|just now)$`, 'm'));
  });

  it('tails, verifies and exports the audit log', async () => {
    expect((await paddock(['tenant', 'inspect', 'team-a'])).code).toBe(0);
    const tail = await paddock(['audit', 'tail', '-n', '5']);
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+ #\d+\s+\S+@\S+\s+\S+\s+\S+\s+(allow|deny|ask)\s+\S+$/);
    expect(lines.at(-1)).toMatch(/ admin@default\s+tenant\.get\s+tenant:team-a\s+allow\s+ok$/);

    const verify = await paddock(['audit', 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^audit log intact: \d+ records, \d+ signed heads?, /);
    expect(verify.stdout).toMatch(/^anchor log \S+\/audit-anchors\.log: \d+ anchors? checked, /m);

    const exported = await paddock(['audit', 'export', '--format', 'jsonl', '--since', '1h']);
    expect(exported.code).toBe(0);
    const records = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.length).toBeGreaterThan(10);
    for (const r of records) expect(r).toMatchObject({ hash: expect.any(String), prevHash: expect.any(String) });
    // Consecutive records chain: each names the hash of the one before.
    for (let i = 1; i < records.length; i++) if (records[i].seq === records[i - 1].seq + 1) expect(records[i].prevHash).toBe(records[i - 1].hash);

    const asJson = JSON.parse((await paddock(['audit', 'export', '--format', 'json'])).stdout);
    expect(asJson.length).toBeGreaterThanOrEqual(records.length);
  });
});

describe('paddock audit tail -f', () => {
  it('prints records as they land until Ctrl-C', async () => {
    const follower = spawn(process.execPath, [cliPath(), 'audit', 'tail', '-f', '-n', '1'], { env: daemon.env });
    let stdout = '';
    let stderr = '';
    follower.stdout.on('data', (d) => (stdout += d));
    follower.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => follower.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => stdout.split('\n').length > 1);
      expect((await paddock(['tenant', 'inspect', 'team-q'])).code).toBe(0);
      await waitFor(() => /tenant\.get\s+tenant:team-q/.test(stdout));
    } finally {
      follower.kill('SIGINT');
    }
    expect(await exited).toBe(130);
    expect(stderr).toBe('');
  });
});

describe('paddock audit verify --anchor', () => {
  let anchored: FastDaemon;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync('/tmp/paddock-anchors-cli-');
    anchored = await startFastDaemon([], { PADDOCK_AUDIT_SIGN_INTERVAL_MS: '100' });
  });

  afterAll(async () => {
    await anchored?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = (args: string[]) => runCli(['audit', 'verify', ...args], { env: anchored.env });

  // F5 through the CLI: the database cut back as root, a copy of the anchors shipped off the box before.
  it('says what it checked, and exits 1 naming the shipped anchor the database no longer reaches', async () => {
    for (let i = 0; i < 6; i++) await anchored.api('/v1/sandboxes');
    await untilHeadSigned(anchored.stateDir);
    const shipped = `${dir}/shipped.log`;
    copyFileSync(`${anchored.stateDir}/audit-anchors.log`, shipped);

    const intact = await verify(['--anchor', shipped]);
    expect(intact.stderr).toBe('');
    expect(intact.code).toBe(0);
    const lines = intact.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^audit log intact: \d+ records, \d+ signed heads?, newest head #\d+ signed at \S+$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^anchor log ${anchored.stateDir}/audit-anchors\\.log: \\d+ anchors? checked, newest #\\d+ \\(record \\d+, signed at \\S+\\), reached by the database$`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^supplied anchors ${shipped}: \\d+ anchors? checked, newest #\\d+ \\(record \\d+, signed at \\S+\\), reached by the database$`),
    );

    const db = new Database(`${anchored.stateDir}/paddock.db`);
    db.exec(`DROP TRIGGER audit_append_only_delete; DROP TRIGGER audit_heads_append_only_delete;
             DELETE FROM audit WHERE seq > 3; DELETE FROM audit_heads WHERE seq > 3;`);
    db.close();
    rmSync(`${anchored.stateDir}/audit-anchors.log`);
    const broken = await verify(['--anchor', shipped]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^paddock: audit log NOT intact: \d+ problems? in \d+ records\n$/);
    expect(broken.stdout).toMatch(/^#\d+ truncated: the log ends at \d+, but anchor #\d+ in the supplied anchors, signed at \S+, covered up to \d+/m);
    expect(broken.stdout).toMatch(new RegExp(`^supplied anchors ${shipped}: .*, NOT reached by the database$`, 'm'));
    expect(broken.stdout).toMatch(/^checked: \d+ records, /m);
  });

  it('a file it cannot read is a one-line failure', async () => {
    const r = await verify(['--anchor', `${dir}/no-such-file`]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `paddock: --anchor: cannot read ${dir}/no-such-file (ENOENT)\n` });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
