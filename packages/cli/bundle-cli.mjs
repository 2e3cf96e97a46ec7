// Bundles the CLI twice into outDir, behind one launcher (paddock.mjs, from
// paddock-launcher.mjs; it says which of the two a call runs):
// - paddock-main.cjs, the whole CLI as one script, and V8's code cache for it,
//   made here by running it once. A call with that cache compiles nothing up
//   front: ~21 against ~33 ms from Node's start to the first request.
// - paddock-main.mjs and its chunks in paddock-chunks/, for a Node the cache
//   was not made for. A CLI call pays for every byte of JavaScript it compiles,
//   so each command's implementation, and the SDK, MCP server and libraries
//   behind it, is a chunk its `import()` loads only when that command runs;
//   paddock-main.mjs itself holds the command table (commander and the
//   register*Commands). Compiled from one file, all of it (1.6 MB) cost ~120 ms.
import { spawnSync } from 'node:child_process';
import { chmod, copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const chunkDir = 'paddock-chunks';
const launcher = fileURLToPath(new URL('./paddock-launcher.mjs', import.meta.url));

/** What both bundles share. */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  // Errors are named after their class (PaddockError sets name from new.target), and SDK users match on it.
  keepNames: true,
  // Pure ASCII source is decoded on V8's fast path; non-ASCII text is written as \u escapes.
  charset: 'ascii',
  // For developers: node --enable-source-maps paddock.mjs shows the sources' lines.
  sourcemap: true,
  // ws loads these native speed-ups only if present; Paddock does not ship them.
  external: ['bufferutil', 'utf-8-validate'],
  logLevel: 'warning',
};

/**
 * Writes the launcher, both bundles (with a source map of each file) and the
 * code cache into outDir from the CLI's entry point; `plugins` can change how
 * imports resolve (the fast test tier points workspace packages at their
 * sources). `more` bundles further entries beside the module chunks, sharing
 * them (file name → entry; the fast tier's CLI worker). Chunks of an earlier
 * build are removed first: their names change with their contents.
 * @param {{ cliEntry: string, outDir: string, plugins?: import('esbuild').Plugin[], more?: Record<string, string> }} options
 */
export async function bundleCli({ cliEntry, outDir, plugins = [], more = {} }) {
  await rm(join(outDir, chunkDir), { recursive: true, force: true });
  // The launcher has no map; an earlier build's entry had one.
  await rm(join(outDir, 'paddock.mjs.map'), { force: true });
  await build({
    ...common,
    entryPoints: { 'paddock-main': cliEntry, ...Object.fromEntries(Object.entries(more).map(([file, entry]) => [file.replace(/\.mjs$/, ''), entry])) },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: `${chunkDir}/[name]-[hash]`,
    splitting: true,
    format: 'esm',
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: { js: "import { createRequire as paddockCreateRequire } from 'node:module'; const require = paddockCreateRequire(import.meta.url);" },
    plugins,
  });
  await build({
    ...common,
    entryPoints: { 'paddock-main': cliEntry },
    outdir: outDir,
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    // Each import() becomes a lazy require of code in this same file, as a command's chunk is loaded only when it runs.
    supported: { 'dynamic-import': false },
    plugins,
  });
  const entry = join(outDir, 'paddock.mjs');
  await copyFile(launcher, entry);
  await chmod(entry, 0o755);
  writeCodeCache(entry);
}

/**
 * Runs `paddock run` once from the script, with no daemon to reach (the
 * request is refused at once), so the cache holds the code of a command's
 * path: the command table, the SDK, the run itself. Made for the Node that
 * builds, started as `make up` installs it: no flags, no NODE_OPTIONS.
 */
function writeCodeCache(entry) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PADDOCK_CLI_CODE_CACHE: 'write', PADDOCK_URL: 'http://127.0.0.1:1', PADDOCK_TOKEN: 'code-cache' };
  const made = spawnSync(process.execPath, [entry, 'run', '--', 'true'], { env, encoding: 'utf8', timeout: 60_000 });
  if (!/cannot reach Paddock/.test(made.stderr)) {
    throw new Error(`making the CLI's code cache: \`paddock run\` did not end as expected (exit ${made.status}): ${made.stderr || made.error}`);
  }
}
