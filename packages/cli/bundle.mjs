// Bundles the compiled CLI (dist/) as `make up` installs it: see bundle-cli.mjs.
import { fileURLToPath } from 'node:url';
import { bundleCli } from './bundle-cli.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

await bundleCli({ cliEntry: here('./dist/main.js'), outDir: here('./dist') });
