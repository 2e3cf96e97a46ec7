import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PythonOutcome, pythonTestIds, runPythonTests } from '../../daemon/src/testing/python-sdk.js';
import { startTestDaemon, type TestDaemon } from '../../daemon/src/testing/test-daemon.js';

// The smoke set of the Python SDK on real sandboxes (runc, the egress proxy,
// real PTYs and volumes): the blocking half of its behaviour matrix, the
// examples, and what costs more than the fast tier's budget (the wheel
// build, mypy). The whole matrix, sync and async, runs in-process in
// python-sdk.test.ts.
const sdk = fileURLToPath(new URL('../../../sdks/python/', import.meta.url));
const smoke = ['tests._sync.test_sandbox.', 'tests.test_sync_only.', 'tests.test_examples.', 'tests.test_packaging.'];
const ids = pythonTestIds(sdk, smoke);

let daemon: TestDaemon;
let outcomes: Map<string, PythonOutcome>;

beforeAll(async () => {
  daemon = await startTestDaemon();
  outcomes = new Map();
  for (const prefix of smoke) for (const [id, outcome] of await runPythonTests(sdk, daemon, prefix)) outcomes.set(id, outcome);
}, 900_000);

afterAll(async () => {
  await daemon?.stop();
});

describe('the Python SDK on real sandboxes', () => {
  it.each(ids)('%s', (id) => {
    const outcome = outcomes.get(id);
    expect(outcome, `no result for ${id}`).toBeDefined();
    expect(outcome?.detail ?? '', `${id}: ${outcome?.outcome}`).toBe('');
    expect(outcome?.outcome).toBe('passed');
  });
});

it('mypy --strict passes over the package, its tests and examples', () => {
  const out = execFileSync(
    '/usr/bin/python3',
    ['-m', 'mypy', '--strict', '--cache-dir', '/tmp/paddock-mypy-cache', 'paddock', 'tests', '../../examples/python'],
    {
      cwd: sdk,
      encoding: 'utf8',
    },
  );
  expect(out).toMatch(/^Success/);
}, 300_000);
