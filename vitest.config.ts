import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { sourceAliases as alias } from './packages/daemon/src/testing/source-aliases.js';

// Two tiers. The fast tier runs from the sources, in-process, over a fake
// sandbox host: no root, runtime or base template (its slow part, below, is
// run by `make test` only). The security tier starts
// real daemons and CLIs from dist/ with real sandboxes (`make build` first).
// A test file belongs to the security tier when it uses what only a real
// daemon gives, so a file cannot be put in the wrong tier by hand. The CLI is
// no such thing: run-cli.ts runs each tier's own bundle of it.
const root = fileURLToPath(new URL('.', import.meta.url));
const realDaemonMarkers = ['startTestDaemon', 'daemonMain', 'cliMain', 'host-probe.js'];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts') && !e.parentPath.includes('node_modules') && !e.parentPath.includes('/dist'))
    .map((e) => join(e.parentPath, e.name).slice(root.length));
}

// Of the rest, files that drive real Python kernels or a real browser start no
// root or runtime either, but spend seconds of CPU on each kernel or page: they
// say so in a `// slow tier:` line and run with `make test`, not `make test-fast`.
const slowMarkers = ['// slow tier:', 'chromium.launch'];

const allTests = testFiles(join(root, 'packages'));
const source = (file: string) => readFileSync(join(root, file), 'utf8');
const securityTier = allTests.filter((file) => realDaemonMarkers.some((marker) => source(file).includes(marker)));
const rootless = allTests.filter((file) => !securityTier.includes(file));
const slowTier = rootless.filter((file) => slowMarkers.some((marker) => source(file).includes(marker)));
const fastTier = rootless.filter((file) => !slowTier.includes(file));

// Vitest starts the files that took longest in the last run first, so its
// workers end together. On a fresh clone it knows no times and starts the
// largest files first, which are not the slowest: those wait on kernels,
// Python processes, CLIs and a browser. These are, slowest first.
const slowestFirst = [
  'packages/daemon/src/code/code-contexts.test.ts',
  'packages/sdk/src/python-sdk.test.ts',
  'packages/mcp/src/mcp-stdio.test.ts',
  'packages/daemon/src/gateway/gateway.test.ts',
  'packages/cli/src/code-cli.test.ts',
  'packages/daemon/src/dashboard/dashboard-list-browser.test.ts',
  'packages/cli/src/policy-cli.test.ts',
  'packages/daemon/src/security/governance-probes.test.ts',
  'packages/daemon/src/gateway/gateway-mcp.test.ts',
  'packages/daemon/src/templates/dockerfile-add.test.ts',
  'packages/daemon/src/events/live-events.test.ts',
  'packages/daemon/src/e2b/control/e2b-control.test.ts',
  // The security tier's, from the last full run (85 s down to 55 s): started
  // first, they end beside the many short files instead of after them.
  'packages/daemon/src/security/network-probes.test.ts',
  'packages/daemon/src/code/code-interpreter.test.ts',
  'packages/daemon/src/security/isolation-probes.test.ts',
  'packages/daemon/src/check/check-probes.test.ts',
  'packages/daemon/src/commands/command-adoption.test.ts',
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const key = (f: TestSpecification) => relative(root, f.moduleId);
    if (sorted.some((f) => this.ctx.cache.getFileTestResults(`${f.project.name}:${key(f)}`))) return sorted;
    const rank = (f: TestSpecification) => (slowestFirst.includes(key(f)) ? slowestFirst.indexOf(key(f)) : slowestFirst.length);
    const group = (f: TestSpecification) => f.project.config.sequence.groupOrder;
    return sorted.toSorted((a, b) => group(a) - group(b) || rank(a) - rank(b));
  }
}

/** The fast tier's projects: in-process daemons from the sources over the fake sandbox host. */
function inProcessProject(name: 'fast' | 'slow', include: string[]) {
  return {
    resolve: { alias },
    test: {
      name,
      include,
      // Three at once on two cores: its files wait on CLI processes, Python and timers as much as they
      // compute. The slow part runs beside it in the same three (vitest wants one count for projects run together).
      maxWorkers: 3,
      sequence: { groupOrder: 0 },
      // One module graph per worker: the daemon's sources are loaded once, not once per file.
      isolate: false,
      testTimeout: 30_000,
      hookTimeout: 30_000,
      globalSetup: ['packages/daemon/src/testing/fast-global-setup.ts'],
      setupFiles: process.env.PADDOCK_TEST_CPU ? ['packages/daemon/src/testing/cpu-report.ts'] : [],
    },
  };
}

export default defineConfig({
  resolve: { alias },
  test: {
    pool: 'forks',
    fileParallelism: true,
    sequence: { sequencer: SlowestFirst },
    projects: [
      inProcessProject('fast', fastTier),
      inProcessProject('slow', slowTier),
      {
        resolve: { alias },
        test: {
          name: 'security',
          include: securityTier,
          // After the fast tier, two at once: real sandboxes load both cores.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          globalSetup: ['packages/daemon/src/testing/global-setup.ts'],
        },
      },
    ],
  },
});
