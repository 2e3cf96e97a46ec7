// Bundles the compiled CLI into one file. A CLI call pays for every module it
// loads: one file instead of ~70 saves ~15 ms of each `paddock` invocation.
// `paddock mcp` gets a file of its own (paddock-mcp.mjs, loaded only by that
// command): the MCP SDK would add ~20 ms to every other command.
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

await Promise.all([
  build({
    ...common,
    entryPoints: [new URL('./dist/main.js', import.meta.url).pathname],
    outfile: new URL('./dist/paddock.mjs', import.meta.url).pathname,
    plugins: [mcpApart],
  }),
  build({
    ...common,
    entryPoints: [new URL('../mcp/dist/index.js', import.meta.url).pathname],
    outfile: new URL('./dist/paddock-mcp.mjs', import.meta.url).pathname,
  }),
]);
