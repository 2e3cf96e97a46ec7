import type { Plugin } from 'esbuild';

/** Bundles the CLI (paddock.mjs) and `paddock mcp` (paddock-mcp.mjs) into outDir. */
export function bundleCli(options: { cliEntry: string; mcpEntry: string; outDir: string; plugins?: Plugin[] }): Promise<void>;
