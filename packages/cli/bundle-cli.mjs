// Bundles the CLI into one file, paddock.mjs, and `paddock mcp` into its own,
// paddock-mcp.mjs, beside it. A CLI call pays for every module it loads: one
// file instead of ~70 saves ~15 ms of each `paddock` invocation. The MCP SDK
// would add ~20 ms to every other command, so paddock.mjs loads
// paddock-mcp.mjs only for `paddock mcp`.
import { join } from 'node:path';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // ws loads these native speed-ups only if present; Paddock does not ship them.
  external: ['bufferutil', 'utf-8-validate'],
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: { js: "import { createRequire as paddockCreateRequire } from 'node:module'; const require = paddockCreateRequire(import.meta.url);" },
  logLevel: 'warning',
};

/** In paddock.mjs, `import('@paddock/mcp')` loads the file beside it instead of inlining the package. */
const mcpApart = {
  name: 'paddock-mcp-apart',
  setup(b) {
    b.onResolve({ filter: /^@paddock\/mcp$/ }, () => ({ path: './paddock-mcp.mjs', external: true }));
  },
};

/**
 * Writes paddock.mjs and paddock-mcp.mjs into outDir from the CLI's and the
 * MCP package's entry points; `plugins` can change how imports resolve (the
 * fast test tier points workspace packages at their sources). `more` bundles
 * further entries beside them as the CLI is bundled (file name → entry; the
 * fast tier's CLI worker).
 * @param {{ cliEntry: string, mcpEntry: string, outDir: string, plugins?: import('esbuild').Plugin[], more?: Record<string, string> }} options
 */
export async function bundleCli({ cliEntry, mcpEntry, outDir, plugins = [], more = {} }) {
  const asCli = (entry, file) => build({ ...common, entryPoints: [entry], outfile: join(outDir, file), plugins: [mcpApart, ...plugins] });
  await Promise.all([
    asCli(cliEntry, 'paddock.mjs'),
    build({ ...common, entryPoints: [mcpEntry], outfile: join(outDir, 'paddock-mcp.mjs'), plugins }),
    ...Object.entries(more).map(([file, entry]) => asCli(entry, file)),
  ]);
}
