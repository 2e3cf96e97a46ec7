import { Sandbox, TemplateNotFoundError, Templates } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';

// Build requests the daemon refuses before any step runs (nothing is started);
// builds themselves run in real sandboxes: template-build.test.ts and
// dockerfile-build.test.ts.
let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

describe('template build requests', () => {
  it('rejects invalid Paddockfiles and unknown parents before building', async () => {
    await expect(Templates.build({ ...daemon.conn, name: 'bad', paddockfile: 'FROM base\nVOLUME /data\n' })).rejects.toMatchObject({
      code: 'invalid_paddockfile',
      status: 400,
    });
    await expect(Templates.build({ ...daemon.conn, name: 'orphan', paddockfile: 'FROM nowhere\nRUN true\n' })).rejects.toBeInstanceOf(TemplateNotFoundError);
    await expect(Templates.remove('base', daemon.conn)).rejects.toMatchObject({ code: 'template_in_use' });
  });

  it('refuses an instruction it cannot honour before any step runs, naming the line; a FROM that is no template is pulled as an image, and its failure names the line', async () => {
    const before = await Sandbox.list({ ...daemon.conn, state: 'all' });
    const cases: Array<[string, Record<string, unknown>]> = [
      [
        'FROM base\nRUN touch /ran\nHEALTHCHECK CMD true\n',
        { code: 'invalid_dockerfile', status: 400, message: expect.stringMatching(/^Dockerfile line 3: HEALTHCHECK/) },
      ],
      ['FROM base\nRUN --mount=type=secret,id=x cat /run/secrets/x\n', { code: 'invalid_dockerfile', message: expect.stringContaining('line 2: RUN --mount') }],
      ['FROM base\nVOLUME /data\n', { code: 'invalid_dockerfile', message: expect.stringContaining('line 2: VOLUME') }],
      ['FROM base\nONBUILD RUN true\n', { code: 'invalid_dockerfile', message: expect.stringContaining('line 2: ONBUILD') }],
      // A registry nobody listens for (port 1 of loopback): the pull is attempted and fails, naming the line.
      [
        'FROM base\nRUN true\nFROM 127.0.0.1:1/team/app:1\n',
        {
          code: 'registry_unreachable',
          status: 503,
          message: expect.stringMatching(/^Dockerfile line 3: FROM 127\.0\.0\.1:1\/team\/app:1: registry 127\.0\.0\.1:1 /),
        },
      ],
      [
        'FROM base\nFROM Not_An/Image!\n',
        { code: 'invalid_dockerfile', status: 400, message: expect.stringMatching(/^Dockerfile line 2: FROM Not_An\/Image!: not a template/) },
      ],
    ];
    for (const [dockerfile, expected] of cases) {
      await expect(Templates.build({ ...daemon.conn, name: 'refused', dockerfile })).rejects.toMatchObject(expected);
    }
    expect(await Sandbox.list({ ...daemon.conn, state: 'all' })).toEqual(before);
  });
});
