import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDaemonCommand } from './daemon-config.js';
import { daemonSettings, InvalidSettingError, readSettings } from './daemon-settings.js';

const serve = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const parsed = parseDaemonCommand(argv, env);
  if (parsed.command === 'help') throw new Error('help, not a config');
  return parsed.config;
};

describe('the settings schema (G3)', () => {
  it('has the documented defaults', () => {
    expect(serve([])).toMatchObject({
      stateDir: '/var/lib/paddock',
      cacheDir: '/var/cache/paddock',
      host: '127.0.0.1',
      port: 7423,
      logLevel: 'info',
      configFile: undefined,
      policiesDir: '/var/lib/paddock/policies',
      maxUploadBytes: 1024 ** 3,
      approvalTtlMs: 10 * 60_000,
      auditSignIntervalMs: 10_000,
      overcommit: 1,
      dnsServers: [],
      egressAllowRanges: [],
    });
  });

  it.each([
    // setting, flag value or variable, what it comes to
    ['approvalTtlMs', { env: { PADDOCK_APPROVAL_TTL_MS: '10m' } }, 600_000],
    ['approvalTtlMs', { env: { PADDOCK_APPROVAL_TTL_MS: '800' } }, 800],
    ['approvalTtlMs', { argv: ['--approval-ttl', '1h30m'] }, 5_400_000],
    ['auditSignIntervalMs', { env: { PADDOCK_AUDIT_SIGN_INTERVAL_MS: '100' } }, 100],
    ['auditSignIntervalMs', { argv: ['--audit-sign-interval', '2s'] }, 2000],
    ['maxUploadBytes', { env: { PADDOCK_MAX_UPLOAD_BYTES: '1g' } }, 1024 ** 3],
    ['maxUploadBytes', { argv: ['--max-upload-bytes', '8388608'] }, 8 * 1024 * 1024],
    ['maxUploadBytes', { argv: ['--max-upload-bytes', '512k'] }, 512 * 1024],
    ['port', { env: { PADDOCK_PORT: '0' } }, 0],
    ['port', { argv: ['--port', '8080'], env: { PADDOCK_PORT: '9090' } }, 8080],
    ['overcommit', { env: { PADDOCK_OVERCOMMIT: '1.5' } }, 1.5],
    ['logLevel', { env: { PADDOCK_LOG_LEVEL: 'DEBUG' } }, 'debug'],
    ['stateDir', { argv: ['--state-dir', 'relative/dir'] }, `${process.cwd()}/relative/dir`],
    ['configFile', { env: { PADDOCK_CONFIG: '' } }, undefined],
    ['dnsServers', { env: { PADDOCK_DNS_SERVERS: '1.1.1.1, 9.9.9.9:53' } }, ['1.1.1.1', '9.9.9.9:53']],
    ['dnsServers', { argv: ['--dns-server', 'a', '--dns-server', 'b'] }, ['a', 'b']],
    ['egressAllowRanges', { env: { PADDOCK_EGRESS_ALLOW_RANGES: '10.1.0.0/16' } }, ['10.1.0.0/16']],
  ] as const)('reads %s from %o', (name, given, expected) => {
    const config = serve([...('argv' in given ? given.argv : [])], 'env' in given ? given.env : {});
    expect(config[name]).toEqual(expected);
  });

  it.each([
    // a value that must stop the daemon, and what the one line names
    [{ env: { PADDOCK_APPROVAL_TTL_MS: 'abc' } }, /^PADDOCK_APPROVAL_TTL_MS: invalid duration "abc"/],
    [{ env: { PADDOCK_APPROVAL_TTL_MS: '0' } }, /^PADDOCK_APPROVAL_TTL_MS: "0" must be more than 0/],
    [{ env: { PADDOCK_APPROVAL_TTL_MS: '30d' } }, /^PADDOCK_APPROVAL_TTL_MS: .*at most 7d/],
    [{ argv: ['--approval-ttl', '10x'] }, /^--approval-ttl: invalid duration "10x"/],
    [{ env: { PADDOCK_AUDIT_SIGN_INTERVAL_MS: '-5' } }, /^PADDOCK_AUDIT_SIGN_INTERVAL_MS: invalid duration/],
    [{ env: { PADDOCK_MAX_UPLOAD_BYTES: '1 zettabyte' } }, /^PADDOCK_MAX_UPLOAD_BYTES: invalid size/],
    [{ env: { PADDOCK_PORT: '70000' } }, /^PADDOCK_PORT: invalid port "70000"/],
    [{ argv: ['--port', '12ab'] }, /^--port: invalid port/],
    [{ env: { PADDOCK_OVERCOMMIT: 'lots' } }, /^PADDOCK_OVERCOMMIT: invalid ratio "lots"/],
    [{ env: { PADDOCK_OVERCOMMIT: '0' } }, /^PADDOCK_OVERCOMMIT: invalid ratio/],
    [{ env: { PADDOCK_LOG_LEVEL: 'loud' } }, /^PADDOCK_LOG_LEVEL: invalid log level "loud"/],
    [{ env: { PADDOCK_EGRESS_ALLOW_RANGES: '10.1.0.0/16,nope' } }, /^PADDOCK_EGRESS_ALLOW_RANGES: not an address range: nope/],
    [{ argv: ['--host', ' '] }, /^--host: must not be empty/],
    [{ argv: ['--bogus'] }, /unknown option '--bogus'/],
    [{ argv: ['serve-please'] }, /unknown command "serve-please"/],
  ] as const)('refuses %o with one line naming the setting', (given, message) => {
    const read = () => parseDaemonCommand([...('argv' in given ? given.argv : [])], 'env' in given ? given.env : {});
    expect(read).toThrow(InvalidSettingError);
    expect(read).toThrow(message);
    try {
      read();
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('answers --help, -h and help with text naming every setting, its variable and default', () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['help', '--state-dir', '/x'], ['--state-dir', '/x', '--help']]) {
      const parsed = parseDaemonCommand(argv, { PADDOCK_APPROVAL_TTL_MS: 'abc' });
      expect(parsed.command).toBe('help');
      const text = parsed.command === 'help' ? parsed.text.replace(/\s+/g, ' ') : '';
      for (const spec of Object.values(daemonSettings)) {
        expect(text).toContain(`--${spec.flag} ${spec.value}`);
        expect(text).toContain(`[env ${spec.env}] (default: ${(spec as { shownDefault?: string }).shownDefault ?? spec.default})`);
      }
    }
  });

  it('reads every setting through the same table (no setting is read elsewhere)', () => {
    expect(Object.keys(readSettings({}, {})).sort()).toEqual(Object.keys(daemonSettings).sort());
  });
});

describe('the settings table in docs/operations.md', () => {
  it('has a row for every setting, with its flag and its variable', () => {
    const page = readFileSync(fileURLToPath(new URL('../../../../docs/operations.md', import.meta.url)), 'utf8');
    const rows = page.split('\n').filter((line) => line.startsWith('| `--'));
    const missing = Object.values(daemonSettings)
      .filter((spec) => !rows.some((row) => row.startsWith(`| \`--${spec.flag}`) && row.includes(`\`${spec.env}\``)))
      .map((spec) => `--${spec.flag}`);
    expect(missing).toEqual([]);
  });
});
