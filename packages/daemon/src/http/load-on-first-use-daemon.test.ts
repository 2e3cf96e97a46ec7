import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// The daemon from dist, as launched for real, with a module hook that notes
// every module it loads: what it loads at start stays in its idle memory.
let daemon: TestDaemon;
let dir: string;
let moduleLog: string;

const loaded = async () => (await readFile(moduleLog, 'utf8')).split('\n');
const envdCode = (modules: string[]) => modules.filter((url) => /@connectrpc|@bufbuild|\/e2b\/envd\/envd-server\.js$/.test(url));
const tarCode = (modules: string[]) => modules.filter((url) => /node_modules\/tar\/|\/volumes\/volume-archive\.js$/.test(url));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'paddock-modules-'));
  moduleLog = join(dir, 'modules.log');
  await writeFile(moduleLog, '');
  const hooks = join(dir, 'hooks.mjs');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(${JSON.stringify(moduleLog)}, url + '\\n'); return next(url, context); }\n`,
  );
  const register = join(dir, 'register.mjs');
  await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  daemon = await startTestDaemon([], { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(register).href}`.trim() });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('parts of the daemon loaded on first use', () => {
  it("E2B's envd protocol (Connect-RPC, protobuf) and the volume archives' tar are not loaded at start, and answer on their first use", async () => {
    expect((await daemon.api('/v1/sandboxes')).status).toBe(200);
    const atStart = await loaded();
    expect(atStart.some((url) => url.endsWith('/http/app.js'))).toBe(true);
    expect(envdCode(atStart)).toEqual([]);
    expect(tarCode(atStart)).toEqual([]);

    // An envd call for a sandbox that does not exist: answered by the envd code, loaded now.
    const envd = await fetch(`${daemon.url}/envs`, { headers: { 'e2b-sandbox-id': 'sb-000000000000', 'x-access-token': daemon.token } });
    expect(envd.status).toBe(404);
    expect((await envd.json()) as { error: { code: string } }).toMatchObject({ error: { code: 'sandbox_not_found' } });
    expect(envdCode(await loaded()).length).toBeGreaterThan(0);

    // A volume's export streams a tar archive.
    expect(
      (
        await daemon.api('/v1/volumes', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'mods', sizeMiB: 16 }),
        })
      ).status,
    ).toBe(201);
    const exported = await daemon.api('/v1/volumes/mods/export');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('application/x-tar');
    await exported.arrayBuffer();
    expect(tarCode(await loaded()).length).toBeGreaterThan(0);
  });
});
