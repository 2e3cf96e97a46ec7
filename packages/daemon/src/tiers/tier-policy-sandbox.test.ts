import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonMain, startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { writeTierConfig } from '../testing/tier-config.js';

// The tier floor on real runtimes: auto gives gVisor's own kernel where a
// rule says so, and paddockd refuses a config file it cannot read.
let daemon: TestDaemon;
// Made in beforeAll, not as the file loads: `vitest list` loads files without running their hooks.
let configDir: string;
let configFile: string;

beforeAll(async () => {
  ({ configDir, configFile } = writeTierConfig());
  daemon = await startTestDaemon(['--config', configFile]);
});

afterAll(async () => {
  await daemon?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

describe('tier choice', () => {
  it('gives auto the operator’s minimum: container by default, gvisor where a rule says so', async () => {
    const plain = await Sandbox.create({ ...daemon.conn });
    expect(plain.tier).toBe('container');
    const risky = await Sandbox.create({ ...daemon.conn, tier: 'auto', metadata: { risk: 'high' } });
    expect(risky.tier).toBe('gvisor');
    expect((await risky.commands.run(['uname', '-r'])).stdout).toBe('4.4.0\n');
    expect((await plain.commands.run(['uname', '-r'])).stdout).not.toBe('4.4.0\n');
    await Promise.all([plain.kill(), risky.kill()]);
  });

  it('does not start with a missing or invalid config file, and says which', async () => {
    {
      const r = spawnSync(process.execPath, [daemonMain, '--state-dir', join(configDir, 'bad'), '--port', '0', '--config', join(configDir, 'missing.json')], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/missing\.json/);
      writeFileSync(join(configDir, 'typo.json'), JSON.stringify({ tiers: { minimum: 'vm' } }));
      const typo = spawnSync(process.execPath, [daemonMain, '--state-dir', join(configDir, 'bad'), '--port', '0', '--config', join(configDir, 'typo.json')], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(typo.status).not.toBe(0);
      expect(typo.stderr).toMatch(/tiers\.minimum/);
    }
  });
});
