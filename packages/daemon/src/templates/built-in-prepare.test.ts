import type { TemplateBuildEvent } from '@paddock/core';
import { Sandbox, Templates } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';
import { runCli } from '../testing/run-cli.js';

// Small stand-ins for the templates the daemon carries (theirs install Debian packages for minutes): the same first-use path.
const carried = {
  'code-interpreter': 'FROM base\nRUN echo first step output\nRUN echo kernel > /kernel.txt\n',
  desktop: 'FROM base\nRUN echo screen > /screen.txt\n',
};

let daemon: FastDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon([], {}, { builtInDockerfiles: carried });
});

afterAll(async () => {
  await daemon?.stop();
});

const paddock = (args: string[]) => runCli(args, { env: daemon.env });

describe('templates the daemon carries, built on first use with their progress', () => {
  it('prepare streams the first-use build of the code-interpreter template (steps, their output, done); the next prepare answers done at once', async () => {
    const events: TemplateBuildEvent[] = [];
    const made = await Templates.prepare('code-interpreter', { ...daemon.conn, onEvent: (e) => events.push(e) });
    expect(made.name).toBe('code-interpreter');
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((e) => `${e.index}/${e.total}`)).toEqual(['1/4', '2/4', '3/4', '4/4']);
    expect(steps[1]).toMatchObject({ text: 'RUN echo first step output' });
    expect(
      events
        .filter((e) => e.type === 'log')
        .map((e) => e.data)
        .join(''),
    ).toContain('first step output');
    expect(events.at(-1)).toMatchObject({ type: 'done', template: { name: 'code-interpreter' } });

    const again: TemplateBuildEvent[] = [];
    await Templates.prepare('code-interpreter', { ...daemon.conn, onEvent: (e) => again.push(e) });
    expect(again.map((e) => e.type)).toEqual(['done']);
    const sbx = await Sandbox.create({ ...daemon.conn, template: 'code-interpreter' });
    expect((await sbx.commands.run('cat /kernel.txt')).stdout).toBe('kernel\n');
    await sbx.kill();
  });

  it('a template the daemon does not carry: an existing one answers done, an unknown one a 404 with its code before any stream', async () => {
    expect((await Templates.prepare('base', daemon.conn)).name).toBe('base');
    const res = await daemon.api('/v1/templates/no-such-template/prepare', { method: 'POST' });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('template_not_found');
    const bad = await daemon.api('/v1/templates/..%2Fetc/prepare', { method: 'POST' });
    expect(bad.status).toBe(400);
  });

  // Also a regression test: it follows answers with a string body, whose Content-Length the server once wrote into the
  // headers object all NDJSON answers shared, so this stream was cut at that length.
  it('paddock create with a carried template that is not built shows its steps on stderr (plain lines without a terminal) and prints only the id', async () => {
    const created = await paddock(['create', '--template', 'desktop']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^[a-z0-9-]+\n$/);
    expect(created.stderr).toContain('Step 2/3 : RUN echo screen > /screen.txt\n');
    // Without a terminal, create keeps the steps' output off stderr: only the steps say where it stands.
    expect(created.stderr).not.toContain('screen\n\n');
    const second = await paddock(['create', '--template', 'desktop']);
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect((await paddock(['kill', created.stdout.trim(), second.stdout.trim()])).code).toBe(0);
  });

  it('paddock template prepare prints the name; an unknown name exits non-zero with a one-line message', async () => {
    expect(await paddock(['template', 'prepare', 'desktop'])).toMatchObject({ code: 0, stdout: 'desktop\n' });
    const missing = await paddock(['template', 'prepare', 'nothing-here']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('nothing-here');
  });
});
