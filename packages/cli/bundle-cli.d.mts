import type { Plugin } from 'esbuild';

/** Bundles the CLI into outDir as paddock.mjs and its chunks (paddock-chunks/), and `more` (file name → entry) beside it, sharing those chunks. */
export function bundleCli(options: { cliEntry: string; outDir: string; plugins?: Plugin[]; more?: Record<string, string> }): Promise<void>;
