#!/usr/bin/env node
// Runs the whole suite with vitest and ends with the one line the CI reader
// parses: "N passed, N failed[, N skipped]". Exit code is vitest's. The config
// is loaded without a temp file beside it, so a user who cannot write the
// checkout (make test-fast runs without root) can run it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'paddock-vitest-'));
const report = join(dir, 'report.json');
const run = spawnSync(
  'npx',
  ['vitest', 'run', '--configLoader', 'runner', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  // A file that failed outside any test (a hook, an import) counts once; a
  // failing test is counted once, not again for each describe around it.
  const brokenFiles = (json.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'));
  failed = (json.numFailedTests ?? 0) + brokenFiles.length;
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  // Kept on request: where the time of a run went (each file's and test's duration).
  if (process.env.PADDOCK_TEST_REPORT) copyFileSync(report, process.env.PADDOCK_TEST_REPORT);
} catch {
  failed = Math.max(1, failed);
}
rmSync(dir, { recursive: true, force: true });
const status = run.status ?? 1;
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status);
