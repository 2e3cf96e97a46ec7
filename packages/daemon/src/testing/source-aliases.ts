import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('../../../', import.meta.url));
const sourceOf = (path: string) => join(packagesDir, path);

/**
 * Where each workspace package's import resolves in the fast tier: to its
 * sources, so no test runs stale code after an edit. vitest.config.ts aliases
 * them for the tests; the fast tier's CLI bundle uses the same table.
 */
export const sourceAliases: Array<{ find: RegExp; replacement: string }> = [
  { find: /^@paddock\/core\/client$/, replacement: sourceOf('core/src/client.ts') },
  { find: /^@paddock\/sdk\/node$/, replacement: sourceOf('sdk/src/node/index.ts') },
  { find: /^@paddock\/sdk\/probes$/, replacement: sourceOf('sdk/src/probes/index.ts') },
  { find: /^@paddock\/mcp\/gateway$/, replacement: sourceOf('mcp/src/gateway/index.ts') },
  { find: /^@paddock\/adapters\/(ai|langchain)$/, replacement: sourceOf('adapters/src/$1/index.ts') },
  { find: /^@paddock\/(core|engine|sdk|mcp|daemon|cli)$/, replacement: sourceOf('$1/src/index.ts') },
];
