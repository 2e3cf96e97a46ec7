import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, TemplateNotFoundError, Templates } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

let daemon: TestDaemon;
let contextDir: string;

beforeAll(async () => {
  daemon = await startTestDaemon();
  contextDir = mkdtempSync('/tmp/paddock-ctx-');
  writeFileSync(join(contextDir, 'data.csv'), 'a,b\n1,2\n');
});

afterAll(async () => {
  rmSync(contextDir, { recursive: true, force: true });
  await daemon?.stop();
});

const tarOf = (dir: string) => new Uint8Array(execFileSync('tar', ['-c', '-C', dir, '.']));

describe('templates', () => {
  it('lists the built-in base template', async () => {
    const list = await Templates.list(daemon.conn);
    expect(list.find((t) => t.name === 'base')).toMatchObject({ parent: null, workdir: '/work' });
    const base = await Templates.get('base', daemon.conn);
    expect(base.sizeBytes).toBeGreaterThan(50_000_000);
  });

  it('builds a template from a Paddockfile and starts sandboxes from it', async () => {
    const events: string[] = [];
    const template = await Templates.build({
      ...daemon.conn,
      name: 'py-ds',
      paddockfile: [
        'FROM base',
        '# comments and continuations work',
        'ENV GREETING=hello \\',
        '    TARGET=world',
        'WORKDIR /srv/app',
        'COPY data.csv ./data.csv',
        'RUN echo "$GREETING $TARGET" > built.txt && python3 -c "print(sum(range(10)))"',
        'RUN ["sh", "-c", "echo exec-form > /srv/app/exec.txt"]',
      ].join('\n'),
      context: tarOf(contextDir),
      onEvent: (e) => events.push(e.type === 'step' ? `step ${e.index}/${e.total} ${e.text}` : e.type === 'log' ? `log ${e.data.trim()}` : e.type),
    });
    expect(template).toMatchObject({ name: 'py-ds', parent: 'base', workdir: '/srv/app', env: { GREETING: 'hello', TARGET: 'world' } });
    // A layer per step that writes files (COPY with its WORKDIR, two RUNs), on base's.
    expect(template.layers).toHaveLength(4);
    expect(events).toContain('log 45');
    expect(events.filter((e) => e.startsWith('step')).at(-1)).toMatch(/^step (\d+)\/\1 saving template$/);

    const sbx = await Sandbox.create({ ...daemon.conn, template: 'py-ds' });
    const r = await sbx.commands.run(['sh', '-c', 'pwd; cat built.txt exec.txt data.csv; echo $GREETING']);
    expect(r.stdout).toBe('/srv/app\nhello world\nexec-form\na,b\n1,2\nhello\n');
    // The sandbox's changes stay in the sandbox: a second one sees the template as built.
    await sbx.files.write('/srv/app/built.txt', 'changed');
    const other = await Sandbox.create({ ...daemon.conn, template: 'py-ds' });
    expect(await other.files.read('/srv/app/built.txt')).toBe('hello world\n');
    expect(await other.files.exists('/.paddock-context')).toBe(false);

    await expect(Templates.remove('py-ds', daemon.conn)).rejects.toMatchObject({ code: 'template_in_use' });
    await sbx.kill();
    await other.kill();
    await Templates.remove('py-ds', daemon.conn);
    await expect(Templates.get('py-ds', daemon.conn)).rejects.toBeInstanceOf(TemplateNotFoundError);
  });

  it('makes USER the default user of the template’s sandboxes', async () => {
    await Templates.build({ ...daemon.conn, name: 'as-user', paddockfile: 'FROM base\nUSER user\nRUN id -u > /home/user/uid.txt\n' });
    const sbx = await Sandbox.create({ ...daemon.conn, template: 'as-user' });
    expect((await sbx.commands.run(['id', '-u'])).stdout).toBe('1000\n');
    expect(await sbx.files.read('/home/user/uid.txt')).toBe('1000\n');
    expect(await sbx.files.write('/work/mine.txt', 'x')).toMatchObject({ uid: 1000 });
    expect((await sbx.commands.run(['id', '-u'], { user: 'root' })).stdout).toBe('0\n');
    await sbx.kill();
    await Templates.remove('as-user', daemon.conn);
  });

  it('fails a build whose step fails, names the line and leaves nothing behind', async () => {
    const before = await Sandbox.list({ ...daemon.conn, state: 'running' });
    const err = await Templates.build({ ...daemon.conn, name: 'broken', paddockfile: 'FROM base\nRUN true\nRUN exit 4\n' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'build_step_failed', message: expect.stringContaining('line 3') });
    await expect(Templates.get('broken', daemon.conn)).rejects.toBeInstanceOf(TemplateNotFoundError);
    expect(await Sandbox.list({ ...daemon.conn, state: 'running' })).toEqual(before);
  });
});
