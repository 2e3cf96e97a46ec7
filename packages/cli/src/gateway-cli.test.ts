import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { buildFixtureTemplate, fixtureTemplate } from '../../daemon/src/testing/gateway-fixture.js';
import { runCli } from '../../daemon/src/testing/run-cli.js';

// A test here starts the CLI, a process, many times: on a loaded machine that
// takes longer than the fast tier's in-process tests are given.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// `paddock gateway` end to end: add a third-party-style MCP server from a
// manifest file, see its tools as an operator would, call one, remove it.
let daemon: FastDaemon;
let dir: string;

beforeAll(async () => {
  daemon = await startFastDaemon();
  await buildFixtureTemplate(daemon.conn);
  dir = mkdtempSync('/tmp/paddock-gw-cli-');
  writeFileSync(join(dir, 'fixture.manifest.json'), JSON.stringify({ template: fixtureTemplate, tier: 'container', description: 'the test server' }));
  writeFileSync(join(dir, 'broken.json'), '{ "template": ');
  writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ tier: 'vm', network: { allow: ['bad host'] } }));
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await daemon?.stop();
});

const paddock = (args: string[]) => runCli(args, { env: daemon.env });

describe('paddock gateway', () => {
  it('adds a server from a manifest, waits until it is ready, and shows operators what clients will read of each tool', async () => {
    const add = await paddock([
      'gateway',
      'add',
      'fx',
      '--manifest',
      join(dir, 'fixture.manifest.json'),
      '--pin',
      '--command',
      'exec node /opt/fixture/server.mjs',
    ]);
    expect(add.stderr).toMatch(/^fx: starting .*\nfx: ready\n$/);
    expect(add.stdout).toMatch(/^fx: ready, 13 tools \(fixture 1\.0\.0\)\n/);
    expect(add.stdout).toMatch(/fx__echo\s+pinned\s+yes\s+Echoes the text back\./);
    expect(add.code).toBe(0);

    const ls = await paddock(['gateway', 'ls']);
    expect(ls.stdout).toMatch(/^NAME\s+STATE\s+TOOLS\s+RESTARTS\s+TIER\s+SANDBOX\s+PINNED/);
    expect(ls.stdout).toMatch(/\nfx\s+ready\s+13\s+0\s+container\s+sb-[a-z0-9]{12}\s+yes/);
    expect((await paddock(['gateway', 'ls', '-q'])).stdout).toBe('fx\n');

    const call = await paddock(['gateway', 'call', 'fx__echo', '--args', '{"text":"from the CLI"}']);
    expect(call).toMatchObject({ code: 0, stdout: 'from the CLI\n' });
    const failing = await paddock(['gateway', 'call', 'fx__read_file', '--args', '{"path":"/no/such/file"}']);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/ENOENT/);
    expect(failing.stderr).toBe('paddock: fx__read_file answered with an error\n');

    const tools = await paddock(['gateway', 'tools', 'fx', '--json']);
    expect(JSON.parse(tools.stdout).map((t: { name: string }) => t.name)).toContain('fx__crash');
    expect(JSON.parse((await paddock(['gateway', 'inspect', 'fx'])).stdout)).toMatchObject({ name: 'fx', manifest: { description: 'the test server' } });
    expect((await paddock(['gateway', 'logs', 'fx'])).stdout).toMatch(/stderr: fixture server starting/);
    expect(JSON.parse((await paddock(['gateway', 'schema'])).stdout)).toMatchObject({ title: 'Paddock gateway manifest' });

    expect(await paddock(['gateway', 'rm', 'fx'])).toMatchObject({ code: 0, stdout: 'fx\n' });
    expect((await paddock(['gateway', 'ls', '-q'])).stdout).toBe('');
  });

  it('answers bad input with one line and a non-zero exit, adding nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['gateway', 'add', 'x', '--manifest', join(dir, 'missing.json'), '--', 'true'], /^paddock: --manifest: cannot read .*missing\.json: ENOENT\n$/],
      [['gateway', 'add', 'x', '--manifest', join(dir, 'broken.json'), '--', 'true'], /^paddock: --manifest: .*broken\.json is not valid JSON/],
      [
        ['gateway', 'add', 'x', '--manifest', join(dir, 'wrong.json'), '--', 'true'],
        /^paddock: invalid request: .*manifest\.tier.*manifest\.network\.allow\.0/,
      ],
      [['gateway', 'add', 'x', '--manifest', join(dir, 'fixture.manifest.json')], /^paddock: give the server command/],
      [['gateway', 'add', 'x', '--manifest', join(dir, 'fixture.manifest.json'), '--command', 'a', '--', 'b'], /either as --command or after --/],
      [['gateway', 'add', 'No_Good', '--manifest', join(dir, 'fixture.manifest.json'), '--', 'true'], /^paddock: invalid request: name: gateway server names/],
      [['gateway', 'call', 'nobody__echo'], /^paddock: no gateway tool named nobody__echo/],
      [['gateway', 'call', 'x__y', '--args', '[1]'], /^paddock: --args: give a JSON object/],
      [['gateway', 'rm', 'ghost'], /^paddock: no gateway server named ghost\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await paddock(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect((await paddock(['gateway', 'ls', '-q'])).stdout).toBe('');
  });
});
