import { defineConfig } from 'vite';

// No plugin: Vite compiles TSX itself (automatic JSX runtime). Types from
// @paddock/core are type-only imports, erased here, so zod stays out of the bundle.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The daemon's CSP allows no inline script or style: nothing may be inlined as a data: URL module either.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
  },
});
