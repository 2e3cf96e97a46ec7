import { Sandbox, Templates } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';
import { runCli } from '../testing/run-cli.js';

// A template's start command (its Dockerfile's or image's ENTRYPOINT and
// CMD) runs in the background of each new sandbox, as `docker run` starts a
// container's. The real thing (a server it starts, answering inside a real
// sandbox) is in dockerfile-build.test.ts.
let daemon: TestDaemon;
const entrypoint = ['sh', '-c', 'echo "$0 $* in $(pwd)" > /work/started; exec sleep 300'];

beforeAll(async () => {
  daemon = await startFastDaemon();
  await Templates.build({
    ...daemon.conn,
    name: 'starter',
    dockerfile: `FROM base\nWORKDIR /work\nENTRYPOINT ${JSON.stringify(entrypoint)}\nCMD ["from", "cmd"]\n`,
  });
});

afterAll(async () => {
  await daemon?.stop();
});

const started = (sbx: Sandbox) => vi.waitFor(() => sbx.files.read('/work/started'), { timeout: 10_000 });

describe("a template's start command", () => {
  it('runs ENTRYPOINT then CMD in the background once the sandbox is up, in its workdir, listed like any command', async () => {
    const sbx = await Sandbox.create({ ...daemon.conn, template: 'starter' });
    expect(await started(sbx)).toBe('from cmd in /work\n');
    expect(await sbx.commands.list()).toEqual([expect.objectContaining({ cmd: [...entrypoint, 'from', 'cmd'], cwd: '/work', state: 'running' })]);
    await sbx.kill();
  });

  it('is skipped when the create asks so (startCommand: false, paddock create --no-start)', async () => {
    const quiet = await Sandbox.create({ ...daemon.conn, template: 'starter', startCommand: false });
    expect(await quiet.commands.list()).toEqual([]);
    const created = await runCli(['create', '-T', 'starter', '--no-start'], { env: daemon.env });
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const fromCli = await Sandbox.connect(created.stdout.trim(), daemon.conn);
    expect(await fromCli.commands.list()).toEqual([]);
    await Promise.all([quiet.kill(), fromCli.kill()]);
  });

  it('is inherited by a template built FROM it; a CMD of its own replaces the CMD and keeps the ENTRYPOINT', async () => {
    await Templates.build({ ...daemon.conn, name: 'starter-child', dockerfile: 'FROM starter\nCMD ["child"]\n' });
    const child = await Sandbox.create({ ...daemon.conn, template: 'starter-child' });
    expect(await started(child)).toBe('child  in /work\n');
    await child.kill();
    await Templates.build({ ...daemon.conn, name: 'starter-plain', dockerfile: 'FROM starter\nENTRYPOINT []\n' });
    const plain = await Sandbox.create({ ...daemon.conn, template: 'starter-plain' });
    expect(await plain.commands.list()).toEqual([]);
    await plain.kill();
  });

  it('does not run in a build’s step sandboxes, nor in the base template', async () => {
    // A start command in the step's sandbox would write its file within the second the step looks for it.
    const step = 'for i in 1 2 3 4 5 6 7 8 9 10; do test ! -e /work/started || exit 1; sleep 0.1; done';
    await Templates.build({ ...daemon.conn, name: 'starter-built', dockerfile: `FROM starter\nRUN ${step}\n` });
    const base = await Sandbox.create({ ...daemon.conn });
    expect(await base.commands.list()).toEqual([]);
    await base.kill();
  });
});
