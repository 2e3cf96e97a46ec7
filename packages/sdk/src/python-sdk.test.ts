import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { type PythonOutcome, pythonErrorCodes, pythonRoutes, pythonTestIds, pythonTypes, runPythonTests } from '../../daemon/src/testing/python-sdk.js';
import { apiRoutes } from './api-routes.js';

// The Python SDK (sdks/python) against an in-process daemon, with Debian's
// python3: its generated modules are what this side would write now, and
// each test of its suite (sync and async) is a test here.
const sdk = fileURLToPath(new URL('../../../sdks/python/', import.meta.url));
const write = process.env.PADDOCK_WRITE_PYTHON_SDK === '1';

let daemon: TestDaemon;
let doc: { components: { schemas: Record<string, never> }; paths: Record<string, never> };

beforeAll(async () => {
  daemon = await startFastDaemon();
  doc = (await (await fetch(`${daemon.url}/openapi.json`)).json()) as typeof doc;
});

afterAll(async () => {
  await daemon?.stop();
});

describe('the Python SDK cannot drift from this one', () => {
  const generated: [string, () => string][] = [
    ['paddock/_api_routes.py', pythonRoutes],
    ['paddock/_error_codes.py', pythonErrorCodes],
    ['paddock/_types.py', () => pythonTypes(doc)],
  ];
  it.each(generated)('%s is what the TypeScript sources and /openapi.json make now', (file, render) => {
    if (write) writeFileSync(join(sdk, file), render());
    expect(readFileSync(join(sdk, file), 'utf8')).toBe(render());
  });

  it('paddock/_sync is what scripts/unasync.py makes of paddock/_async', async () => {
    const run = promisify(execFile)('/usr/bin/python3', [join(sdk, 'scripts/unasync.py'), ...(write ? [] : ['--check'])]);
    await expect(run).resolves.toBeDefined();
  });

  it('calls every route of the table, and names a path only as a key of it', () => {
    const dir = join(sdk, 'paddock');
    const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.py') && f !== '_api_routes.py')
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')] as const);
    const text = sources.map(([, t]) => t).join('\n');
    expect(apiRoutes.filter((route) => !text.includes(`"${route}"`))).toEqual([]);
    const stray = sources.flatMap(([f, t]) =>
      t
        .split('\n')
        .filter((line) => /\/v1\//.test(line.replace(/"(GET|POST|PUT|PATCH|DELETE) \/v1\/[^"]*"/g, '')))
        .map((line) => `${f}: ${line.trim()}`),
    );
    expect(stray).toEqual([]);
  });
});

// Listed as this file loads (vitest must know its tests before it runs them); run once, against the daemon, in beforeAll.
// The sync client's sandbox tests, its own tests, the examples, the wheel build and mypy run with the real-daemon
// smoke set (python-sdk-real-daemon.test.ts); the sync client is made from the async one (checked above).
const sandboxGroup = 'tests._async.test_sandbox.';
/** Run together in one Python process each (a process's start and imports are ~0.6 s of CPU here). */
const smallGroups = [
  ['tests._async.test_broken_daemon.', 'tests._sync.test_broken_daemon.', 'tests.test_surface.'],
  ['tests._async.test_gateway.', 'tests._sync.test_gateway.', 'tests.test_async_only.'],
];
const ids = pythonTestIds(sdk, [sandboxGroup, ...smallGroups.flat()]);

/**
 * The Python processes: the sandbox group's tests (each makes its own sandbox, waiting on the
 * daemon more than computing) in two halves side by side, and the small groups.
 */
function batches(): string[][] {
  const sandboxTests = ids.filter((id) => id.includes(sandboxGroup));
  return [sandboxTests.filter((_, i) => i % 2 === 0), sandboxTests.filter((_, i) => i % 2 === 1), ...smallGroups];
}

describe('the Python suite against an in-process daemon', () => {
  let outcomes: Map<string, PythonOutcome>;
  beforeAll(async () => {
    const runs = await Promise.all(batches().map((batch) => runPythonTests(sdk, daemon, batch)));
    outcomes = new Map(runs.flatMap((run) => [...run]));
  }, 600_000);

  it.each(ids)('%s', (id) => {
    const outcome = outcomes.get(id);
    expect(outcome, `no result for ${id}`).toBeDefined();
    expect(outcome?.detail ?? '', `${id}: ${outcome?.outcome}`).toBe('');
    expect(outcome?.outcome).toBe('passed');
  });
});
