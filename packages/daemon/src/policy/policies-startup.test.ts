import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonMain } from '../testing/test-daemon.js';

// The paddockd process itself refuses a broken policies folder; the policies
// of a running daemon are tested in policies.test.ts.
describe('policy files', () => {
  it('with a problem keep the daemon from starting, naming file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-policies-'));
    try {
      writeFileSync(join(dir, 'x.cedar'), 'permit (principal, action, resource);\nforbid (principal, action, resource) when { context.nope };\n');
      const r = spawnSync(process.execPath, [daemonMain, '--state-dir', join(dir, 'state'), '--port', '0', '--policies', dir], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/x\.cedar:2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
