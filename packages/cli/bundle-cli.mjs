// Bundles the CLI into paddock.mjs and chunk files in paddock-chunks/ beside
// it. A CLI call pays for every byte of JavaScript it loads (reading, decoding
// and compiling it), so each command's implementation, and the SDK, MCP server
// and libraries behind it, is a chunk its `import()` loads only when that
// command runs; paddock.mjs itself holds the command table (commander and the
// register*Commands). One file for all of it (1.6 MB) cost ~120 ms of CPU
// before any command ran.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const chunkDir = 'paddock-chunks';

/**
 * Writes paddock.mjs, its chunks and a source map of each into outDir from the
 * CLI's entry point; `plugins` can change how imports resolve (the fast test
 * tier points workspace packages at their sources). `more` bundles further
 * entries beside it, sharing its chunks (file name → entry; the fast tier's
 * CLI worker). Chunks of an earlier build are removed first: their names
 * change with their contents.
 * @param {{ cliEntry: string, outDir: string, plugins?: import('esbuild').Plugin[], more?: Record<string, string> }} options
 */
export async function bundleCli({ cliEntry, outDir, plugins = [], more = {} }) {
  await rm(join(outDir, chunkDir), { recursive: true, force: true });
  await build({
    entryPoints: { paddock: cliEntry, ...Object.fromEntries(Object.entries(more).map(([file, entry]) => [file.replace(/\.mjs$/, ''), entry])) },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: `${chunkDir}/[name]-[hash]`,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
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
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: { js: "import { createRequire as paddockCreateRequire } from 'node:module'; const require = paddockCreateRequire(import.meta.url);" },
    plugins,
    logLevel: 'warning',
  });
}
