import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, startTestDaemon, type TestDaemon } from '../../daemon/src/testing/test-daemon.js';

let daemon: TestDaemon;
// Tenant tokens whose sandboxes must go before the daemon stops, however a test ends.
const tenantTokens: string[] = [];

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  for (const token of tenantTokens) paddock(['kill', '--all'], token);
  await daemon?.stop();
});

/** Runs the bundled CLI against the test daemon, as admin unless another token is given. */
function paddock(args: string[], token?: string) {
  const env = token ? { ...daemon.env, PADDOCK_TOKEN: token } : daemon.env;
  const r = spawnSync(process.execPath, [cliMain, ...args], { env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A new tenant and a token of `role` for it; the secret is all that stdout holds. */
function tenantWithToken(name: string, quotaFlags: string[] = [], role = 'agent'): string {
  expect(paddock(['tenant', 'create', name, ...quotaFlags])).toEqual({ code: 0, stdout: `${name}\n`, stderr: '' });
  const created = paddock(['token', 'create', '--tenant', name, '--role', role, '--name', `${name} test`]);
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
  it('keeps a tenant’s sandboxes to itself', () => {
    const adminSandbox = paddock(['create']).stdout.trim();
    expect(adminSandbox).toMatch(/^sb-/);
    const token = tenantWithToken('team-a', ['--max-sandboxes', '5', '--max-memory', '4g', '--max-cpus', '4']);

    expect(paddock(['whoami'], token).stdout).toMatch(/^\S+@team-a \(agent\) for agent:tok_\w+\n$/);
    expect(paddock(['run', '--', 'echo', 'hi'], token)).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
    const own = paddock(['create'], token).stdout.trim();
    expect(paddock(['ls', '-q'], token).stdout).toBe(`${own}\n`);
    const hidden = paddock(['inspect', adminSandbox], token);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toMatch(/^paddock: .*not found\n$/);

    const listed = paddock(['tenant', 'ls']);
    expect(listed.stdout.split('\n')[0]).toMatch(/^NAME\s+SANDBOXES\s+MEMORY\s+CPUS$/);
    expect(listed.stdout).toMatch(/^team-a\s+1\/5\s+\S+\/4GiB\s+\S+\/4$/m);
    expect(JSON.parse(paddock(['tenant', 'inspect', 'team-a']).stdout)).toMatchObject({
      name: 'team-a',
      maxSandboxes: 5,
      maxMemoryMiB: 4096,
      maxSnapshots: null,
    });
    expect(paddock(['tenant', 'update', 'team-a', '--max-cpus', 'none']).code).toBe(0);
    expect(JSON.parse(paddock(['tenant', 'inspect', 'team-a']).stdout)).toMatchObject({ maxCpus: null, maxSandboxes: 5 });

    expectOneLineFailure(paddock(['tenant', 'rm', 'team-a']));
    expect(paddock(['kill', own], token).code).toBe(0);
    expect(paddock(['kill', adminSandbox]).code).toBe(0);
  });

  it('refuses a sandbox beyond the tenant’s quota with one line', () => {
    const token = tenantWithToken('team-q', ['--max-sandboxes', '1']);
    const first = paddock(['create'], token);
    expect(first.code).toBe(0);
    const second = paddock(['create'], token);
    expectOneLineFailure(second);
    // As `docker run` when it gets no container: 125, and the line names the tenant and its limit.
    expect(second.code).toBe(125);
    expect(second.stderr).toMatch(/^paddock: cannot create a sandbox: quota exceeded: .*team-q.*at most 1 live sandbox\b/);
    expect(paddock(['ls', '-q'], token).stdout).toBe(first.stdout);
    expect(paddock(['kill', first.stdout.trim()], token).code).toBe(0);
  });

  it('keeps tenant management to admins', () => {
    const token = tenantWithToken('team-r');
    expectOneLineFailure(paddock(['tenant', 'create', 'sneaky'], token));
    expect(paddock(['tenant', 'ls', '--json']).stdout).not.toContain('sneaky');
  });

  it('stops a revoked token at once', () => {
    const token = tenantWithToken('team-t');
    expect(paddock(['ls', '-q'], token).code).toBe(0);
    const id = JSON.parse(paddock(['token', 'ls', '--tenant', 'team-t', '--json']).stdout)[0].id;
    const table = paddock(['token', 'ls', '--tenant', 'team-t']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+TENANT\s+ROLE\s+OWNER\s+NAME\s+CREATED\s+REVOKED$/);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+team-t\\s+agent\\s+agent:${id}\\s+team-t test\\s+.*\\s-$`, 'm'));
    expect(paddock(['token', 'revoke', id])).toEqual({ code: 0, stdout: `${id}\n`, stderr: '' });
    const refused = paddock(['ls', '-q'], token);
    expectOneLineFailure(refused);
    expect(refused.stderr).toMatch(/unauthorized|invalid|token/i);
    expect(paddock(['token', 'ls', '--tenant', 'team-t']).stdout).toMatch(new RegExp(`^${id}\\s.*(ago|just now)$`, 'm'));
  });

  it('tails, verifies and exports the audit log', () => {
    expect(paddock(['tenant', 'inspect', 'team-a']).code).toBe(0);
    const tail = paddock(['audit', 'tail', '-n', '5']);
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+ #\d+\s+\S+@\S+\s+\S+\s+\S+\s+(allow|deny|ask)\s+\S+$/);
    expect(lines.at(-1)).toMatch(/ admin@default\s+tenant\.get\s+tenant:team-a\s+allow\s+ok$/);

    const verify = paddock(['audit', 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^audit log intact: \d+ records, \d+ signed heads?, /);
    expect(verify.stdout).toMatch(/^anchor log \S+\/audit-anchors\.log: \d+ anchors? checked, /m);

    const exported = paddock(['audit', 'export', '--format', 'jsonl', '--since', '1h']);
    expect(exported.code).toBe(0);
    const records = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.length).toBeGreaterThan(10);
    for (const r of records) expect(r).toMatchObject({ hash: expect.any(String), prevHash: expect.any(String) });
    // Consecutive records chain: each names the hash of the one before.
    for (let i = 1; i < records.length; i++) if (records[i].seq === records[i - 1].seq + 1) expect(records[i].prevHash).toBe(records[i - 1].hash);

    const asJson = JSON.parse(paddock(['audit', 'export', '--format', 'json']).stdout);
    expect(asJson.length).toBeGreaterThanOrEqual(records.length);
  });
});

describe('paddock audit tail -f', () => {
  it('prints records as they land until Ctrl-C', async () => {
    const follower = spawn(process.execPath, [cliMain, 'audit', 'tail', '-f', '-n', '1'], { env: daemon.env });
    let stdout = '';
    let stderr = '';
    follower.stdout.on('data', (d) => (stdout += d));
    follower.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => follower.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => stdout.split('\n').length > 1);
      expect(paddock(['tenant', 'inspect', 'team-q']).code).toBe(0);
      await waitFor(() => /tenant\.get\s+tenant:team-q/.test(stdout));
    } finally {
      follower.kill('SIGINT');
    }
    expect(await exited).toBe(130);
    expect(stderr).toBe('');
  });
});

describe('paddock audit verify --anchor', () => {
  let anchored: TestDaemon;
  const dir = mkdtempSync('/tmp/paddock-anchors-cli-');

  beforeAll(async () => {
    anchored = await startTestDaemon([], { PADDOCK_AUDIT_SIGN_INTERVAL_MS: '100' });
  });

  afterAll(async () => {
    await anchored?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = (args: string[]) => {
    const r = spawnSync(process.execPath, [cliMain, 'audit', 'verify', ...args], { env: anchored.env, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  // F5 through the CLI: the database cut back as root, a copy of the anchors shipped off the box before.
  it('says what it checked, and exits 1 naming the shipped anchor the database no longer reaches', async () => {
    for (let i = 0; i < 6; i++) await anchored.api('/v1/sandboxes');
    await new Promise((r) => setTimeout(r, 400));
    const shipped = `${dir}/shipped.log`;
    copyFileSync(`${anchored.stateDir}/audit-anchors.log`, shipped);

    const intact = verify(['--anchor', shipped]);
    expect(intact.stderr).toBe('');
    expect(intact.code).toBe(0);
    const lines = intact.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^audit log intact: \d+ records, \d+ signed heads?, newest head #\d+ signed at \S+$/);
    expect(lines[1]).toMatch(
      /^anchor log \/tmp\/paddock-test-\w+\/audit-anchors\.log: \d+ anchors? checked, newest #\d+ \(record \d+, signed at \S+\), reached by the database$/,
    );
    expect(lines[2]).toMatch(
      new RegExp(`^supplied anchors ${shipped}: \\d+ anchors? checked, newest #\\d+ \\(record \\d+, signed at \\S+\\), reached by the database$`),
    );

    const db = new Database(`${anchored.stateDir}/paddock.db`);
    db.exec(`DROP TRIGGER audit_append_only_delete; DROP TRIGGER audit_heads_append_only_delete;
             DELETE FROM audit WHERE seq > 3; DELETE FROM audit_heads WHERE seq > 3;`);
    db.close();
    rmSync(`${anchored.stateDir}/audit-anchors.log`);
    const broken = verify(['--anchor', shipped]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^paddock: audit log NOT intact: \d+ problems? in \d+ records\n$/);
    expect(broken.stdout).toMatch(/^#\d+ truncated: the log ends at \d+, but anchor #\d+ in the supplied anchors, signed at \S+, covered up to \d+/m);
    expect(broken.stdout).toMatch(new RegExp(`^supplied anchors ${shipped}: .*, NOT reached by the database$`, 'm'));
    expect(broken.stdout).toMatch(/^checked: \d+ records, /m);
  });

  it('a file it cannot read is a one-line failure', () => {
    const r = verify(['--anchor', `${dir}/no-such-file`]);
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
