import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import type { TestProject } from 'vitest/node';
import { bundleCli } from '../../../cli/bundle-cli.mjs';
import { nativeSpawnHelperPath } from '../../../engine/src/host/native-spawn-helper.js';
import { sourceAliases } from './source-aliases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The fast tier's CLI: paddock.mjs bundled from the sources (see run-cli.ts). */
    paddockCli: string;
    /** The same CLI as a worker thread that runs one command after another (packages/cli/src/testing/cli-worker.ts). */
    paddockCliWorker: string;
  }
}

/** Workspace packages resolve to their sources, as vitest.config.ts aliases them for the tests. */
const workspaceSources: Plugin = {
  name: 'paddock-workspace-sources',
  setup(b) {
    b.onResolve({ filter: /^@paddock\// }, (args) => {
      const alias = sourceAliases.find((a) => a.find.test(args.path));
      return alias ? { path: args.path.replace(alias.find, alias.replacement) } : undefined;
    });
  },
};

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Bundles the CLI from the sources once per run, as packages/cli/bundle.mjs
 * bundles it from dist/, so the fast tier tests the CLI without `make build`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  buildSpawnHelper();
  const outDir = await mkdtemp('/tmp/paddock-fast-cli-');
  await bundleCli({
    cliEntry: source('../../../cli/src/main.ts'),
    outDir,
    plugins: [workspaceSources],
    more: { 'paddock-worker.mjs': source('../../../cli/src/testing/cli-worker.ts') },
  });
  project.provide('paddockCli', `${outDir}/paddock.mjs`);
  project.provide('paddockCliWorker', `${outDir}/paddock-worker.mjs`);
  return () => rm(outDir, { recursive: true, force: true });
}

/**
 * The fast tier runs without `make build`, yet its spawns go through
 * paddock-spawn as the daemon's do: compiled here when missing (as the Makefile does).
 */
function buildSpawnHelper(): void {
  if (existsSync(nativeSpawnHelperPath)) return;
  mkdirSync(dirname(nativeSpawnHelperPath), { recursive: true });
  execFileSync('gcc', ['-static', '-O2', '-Wall', '-Wextra', '-o', nativeSpawnHelperPath, source('../../../engine/agent/paddock-spawn.c')], {
    stdio: 'inherit',
  });
}
