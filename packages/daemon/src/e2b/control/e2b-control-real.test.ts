import { Sandbox as PaddockSandbox, Tokens } from '@paddock/sdk';
import { Sandbox } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../testing/test-daemon.js';

// E2B's control plane on a real daemon with real sandboxes: what the official
// client makes is a Paddock sandbox it can run commands in, and the access
// token it is handed works in that sandbox and nowhere else.
let daemon: TestDaemon;
let apiKey: string;

const e2b = () => ({ apiKey, apiUrl: `${daemon.url}/e2b`, sandboxUrl: daemon.url, debug: false });

beforeAll(async () => {
  daemon = await startTestDaemon();
  apiKey = (await Tokens.create({ role: 'agent', e2b: true }, daemon.conn)).token;
});

afterAll(async () => {
  await daemon?.stop();
});

/** What a create answers with, read as the SDKs read it. */
async function createRaw(body: Record<string, unknown>): Promise<{ sandboxID: string; envdAccessToken: string }> {
  const res = await fetch(`${daemon.url}/e2b/v2/sandboxes`, {
    method: 'POST',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { sandboxID: string; envdAccessToken: string };
}

describe('E2B control plane on real sandboxes', () => {
  it('Sandbox.create makes a real Paddock sandbox with the envs and metadata asked for', async () => {
    const sbx = await Sandbox.create('base', { ...e2b(), metadata: { origin: 'e2b' }, envs: { GREETING: 'hello' } });
    const same = await PaddockSandbox.connect(sbx.sandboxId, daemon.conn);
    expect(same.lastKnown).toMatchObject({ template: 'base', state: 'running', metadata: { origin: 'e2b' } });
    const out = await same.commands.run(['sh', '-c', 'echo "$GREETING"']);
    expect(out.stdout).toBe('hello\n');
    expect(await sbx.kill()).toBe(true);
  });

  it('create → commands.run through the official SDK alone: the output, the exit code, a connect from a second client', async () => {
    const sbx = await Sandbox.create('base', e2b());
    const result = await sbx.commands.run('echo "from $(id -un)"; exit 0');
    expect(result).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^from \w+\n$/) });
    const again = await Sandbox.connect(sbx.sandboxId, e2b());
    expect((await again.commands.run('echo again')).stdout).toBe('again\n');
    await sbx.kill();
  });

  it('N8: the envd access token runs commands in its own sandbox, reaches no other, and dies with it', async () => {
    const mine = await createRaw({ templateID: 'base' });
    const other = await createRaw({ templateID: 'base' });
    const inside = await PaddockSandbox.connect(mine.sandboxID, { url: daemon.url, token: mine.envdAccessToken });
    expect((await inside.commands.run(['id', '-un'])).exitCode).toBe(0);
    await inside.files.write('/tmp/note.txt', 'from the access token');
    expect(await inside.files.read('/tmp/note.txt')).toBe('from the access token');
    await expect(PaddockSandbox.connect(other.sandboxID, { url: daemon.url, token: mine.envdAccessToken })).rejects.toMatchObject({
      code: 'sandbox_not_found',
    });
    await expect(inside.kill()).rejects.toMatchObject({ code: 'scope_denied' });

    await Sandbox.kill(mine.sandboxID, e2b());
    await Sandbox.kill(other.sandboxID, e2b());
    await expect
      .poll(async () => (await fetch(`${daemon.url}/v1/whoami`, { headers: { authorization: `Bearer ${mine.envdAccessToken}` } })).status, { timeout: 10_000 })
      .toBe(401);
  });

  it('allowInternetAccess: false gives a sandbox no network at all', async () => {
    const sbx = await Sandbox.create('base', { ...e2b(), allowInternetAccess: false });
    const same = await PaddockSandbox.connect(sbx.sandboxId, daemon.conn);
    // Only the loopback interface is there.
    const links = await same.commands.run(['sh', '-c', 'ls /sys/class/net']);
    expect(links.stdout.split(/\s+/).filter(Boolean)).toEqual(['lo']);
    await sbx.kill();
  });
});
