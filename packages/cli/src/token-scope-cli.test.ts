import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { runCli } from '../../daemon/src/testing/run-cli.js';

// A test here starts the CLI, a process, many times: on a loaded machine that
// takes longer than the fast tier's in-process tests are given.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// `paddock token create` with a scope, `token ls` showing it, and what a
// scoped token's user sees from the CLI when a call falls outside it.
let daemon: FastDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon();
});

afterAll(async () => {
  await runCli(['kill', '--all'], { env: daemon.env });
  await daemon?.stop();
});

function paddock(args: string[], token?: string) {
  return runCli(args, { env: token ? { ...daemon.env, PADDOCK_TOKEN: token } : daemon.env });
}

async function created(args: string[], token?: string): Promise<{ token: string; id: string }> {
  const r = await paddock(['token', 'create', ...args], token);
  expect(r.code, r.stderr).toBe(0);
  return { token: r.stdout.trim(), id: r.stderr.trim() };
}

describe('paddock token create --e2b', () => {
  it('prints a secret of E2B API key shape that works with the scope asked for', async () => {
    const key = await created(['--e2b', '--role', 'agent', '--template', 'base', '--max-sandboxes', '1']);
    expect(key.token).toMatch(/^e2b_[0-9a-f]{40}$/);
    const who = await paddock(['whoami', '--json'], key.token);
    expect(JSON.parse(who.stdout)).toMatchObject({ principal: key.id, role: 'agent', scope: { templates: ['base'], maxSandboxes: 1 } });
  });
});

describe('paddock token create with a scope', () => {
  it('makes a sandbox-bound token that runs commands and reads files there only; token ls shows its scope', async () => {
    const id = (await paddock(['create'])).stdout.trim();
    const other = (await paddock(['create'])).stdout.trim();
    const bound = await created(['--role', 'agent', '--sandbox', id, '--allow', 'exec,files.read,files.write', '--ttl', '15m', '--max-uses', '200']);
    expect(await paddock(['exec', id, '--', 'sh', '-c', 'echo hi > /tmp/hi.txt; cat /tmp/hi.txt'], bound.token)).toEqual({
      code: 0,
      stdout: 'hi\n',
      stderr: '',
    });
    expect(await paddock(['cp', `${id}:/tmp/hi.txt`, '-'], bound.token)).toMatchObject({ code: 0, stdout: 'hi\n' });

    const hidden = await paddock(['exec', other, '--', 'true'], bound.token);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toBe(`paddock: sandbox ${other} not found\n`);
    const kill = await paddock(['kill', id], bound.token);
    expect(kill.code).not.toBe(0);
    expect(kill.stderr).toMatch(/^paddock: this token's scope does not allow sandbox\.kill \(it allows [^\n]+\)\n$/);

    const ls = await paddock(['token', 'ls']);
    const row = ls.stdout.split('\n').find((l) => l.startsWith(bound.id)) ?? '';
    expect(row).toContain(`sandboxes=${id}`);
    expect(row).toContain('actions=exec,files.read,files.write ');
    expect(row).toMatch(/uses=\d+\/200/);
    expect(row).toMatch(/in 1[45]m/);
    const json = JSON.parse((await paddock(['token', 'ls', '--json'])).stdout) as Array<{ id: string; scope: unknown; expiresAt: string }>;
    expect(json.find((t) => t.id === bound.id)).toMatchObject({ scope: { sandboxes: [id], maxUses: 200 }, expiresAt: expect.any(String) });
  });

  it('makes a token that creates a few sandboxes of one template and tier, and says why the next is refused', async () => {
    const maker = await created([
      '--role',
      'agent',
      '--allow',
      'sandbox.create',
      '--template',
      'base',
      '--tier',
      'gvisor',
      '--max-sandboxes',
      '2',
      '--ttl',
      '1h',
    ]);
    for (let i = 0; i < 2; i++) expect((await paddock(['create', '--tier', 'gvisor'], maker.token)).code).toBe(0);
    const third = await paddock(['create', '--tier', 'gvisor'], maker.token);
    expect(third.code).not.toBe(0);
    expect(third.stderr).toMatch(/^paddock: cannot create a sandbox: token tok_\w+ has created all 2 sandboxes it may\n$/);
    const row = (await paddock(['token', 'ls'])).stdout.split('\n').find((l) => l.startsWith(maker.id)) ?? '';
    expect(row).toContain('actions=sandbox.create templates=base tiers=gvisor sandboxes-created=2/2');
  });

  it('refuses bad scope flags, and a wider token from a scoped one, each with one line', async () => {
    const ttl = await paddock(['token', 'create', '--role', 'agent', '--ttl', 'soon']);
    expect(ttl.code).toBe(2);
    expect(ttl.stderr).toMatch(/^paddock: --ttl: invalid duration "soon"/);
    const uses = await paddock(['token', 'create', '--role', 'agent', '--max-uses', '0']);
    expect(uses.code).toBe(2);
    expect(uses.stderr).toBe('paddock: --max-uses: "0" is not a positive integer\n');
    const unknown = await paddock(['token', 'create', '--role', 'agent', '--allow', 'exec,teleport']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/^paddock: [^\n]*unknown action teleport[^\n]*\n$/);
    const scoped = await created(['--role', 'agent', '--allow', 'token.create,exec', '--ttl', '10m']);
    const wider = await paddock(['token', 'create', '--role', 'agent', '--allow', 'files.write'], scoped.token);
    expect(wider.code).not.toBe(0);
    expect(wider.stderr).toMatch(/^paddock: a scoped token mints only narrower tokens: actions [^\n]*sandbox\.file\.write[^\n]*\n$/);
    const later = await paddock(['token', 'create', '--role', 'agent', '--ttl', '1h'], scoped.token);
    expect(later.stderr).toMatch(/^paddock: a scoped token mints only narrower tokens: the new token would outlive this one/);
    expect((await paddock(['token', 'create', '--role', 'agent', '--allow', 'exec', '--ttl', '5m'], scoped.token)).code).toBe(0);
  });
});
