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
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
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
  // A cache is for one build of the script: an earlier one's must not outlive it, even if this build stops half-way.
  // (The launcher has no map; an earlier build's entry had one.)
  for (const stale of ['paddock-main.cjs.cache', 'paddock-main.cjs.cache.json', 'paddock.mjs.map']) await rm(join(outDir, stale), { force: true });
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
    // Which build this is: the launcher uses a code cache only with the build it was made for.
    banner: { js: `/*paddock-build:${randomBytes(8).toString('hex')}*/` },
    plugins,
  });
  const entry = join(outDir, 'paddock.mjs');
  await copyFile(launcher, entry);
  await chmod(entry, 0o755);
  await writeCodeCache(entry);
}

/**
 * Runs `paddock run` once from the script against a port nothing listens on
 * (the request is refused at once), so the cache holds the code of a
 * command's path: the command table, the SDK, the run itself. Made for the
 * Node that builds, started as `make up` installs it: no flags, no
 * NODE_OPTIONS. Then checks that a call starts with it.
 */
async function writeCodeCache(entry) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PADDOCK_URL: `http://127.0.0.1:${await closedPort()}`, PADDOCK_TOKEN: 'code-cache' };
  const run = (args, mode) =>
    spawnSync(process.execPath, [entry, ...args], { env: { ...env, PADDOCK_CLI_CODE_CACHE: mode }, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  const made = run(['run', '--', 'true'], 'write');
  if (!made.stderr.includes('paddock: code cache written')) {
    throw new Error(`making the CLI's code cache: \`paddock run\` ended (exit ${made.status}) without writing it: ${made.stderr || made.error}`);
  }
  const used = run(['--version'], 'report');
  if (!used.stderr.startsWith('paddock: code cache used\n')) throw new Error(`the CLI's new code cache is not used: ${used.stderr || used.error}`);
}

/** A loopback port that was free a moment ago: a connection to it is refused. */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
