import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { probeTiers, py } from './probe-kit.js';

// Section F4 of docs/security-probes.md, in real sandboxes: nothing inside one
// reaches the daemon's state (database, socket, keys, anchors, token) or its API.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon([], { PADDOCK_AUDIT_SIGN_INTERVAL_MS: '100' });
});

afterAll(async () => {
  await daemon?.stop();
});

async function verify() {
  return (await (await daemon.api('/v1/audit/verify')).json()) as { ok: boolean; records: number; problems: Array<{ seq: number; problem: string }> };
}

describe('F4: nothing inside a sandbox reaches the audit log, the policy store or the database', () => {
  it.each(probeTiers)('on the %s tier', async (tier) => {
    const before = await verify();
    const sbx = await Sandbox.create({ ...daemon.conn, tier });
    const { port } = new URL(daemon.url);
    const r = await py(sbx, [
      'import os, socket',
      `for path in ["${daemon.stateDir}/paddock.db", "${daemon.stateDir}/paddockd.sock", "${daemon.stateDir}/audit-signing-key.pem", "${daemon.stateDir}/audit-anchors.log", "${daemon.stateDir}/token"]:`,
      '    print("exists" if os.path.exists(path) else "absent", path)',
      'for host in ["127.0.0.1", "::1"]:',
      '    try:',
      `        socket.create_connection((host, ${port}), timeout=1); print("REACHED", host)`,
      '    except OSError: print("refused", host)',
    ]);
    expect(r.stdout).not.toMatch(/exists|REACHED/);
    await sbx.kill();
    const after = await verify();
    expect(after.ok).toBe(true);
    expect(after.records).toBeGreaterThan(before.records);
  });
});
