import type { Plugin } from 'esbuild';

/**
 * Bundles the CLI into outDir: the launcher paddock.mjs; the whole CLI as one script (paddock-main.cjs) with V8's code cache
 * made for the Node that builds; and paddock-main.mjs with its chunks (paddock-chunks/), plus `more` (file name → entry) beside it, sharing those chunks.
 */
export function bundleCli(options: { cliEntry: string; outDir: string; plugins?: Plugin[]; more?: Record<string, string> }): Promise<void>;
