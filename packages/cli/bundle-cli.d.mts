import type { Plugin } from 'esbuild';

/** Bundles the CLI (paddock.mjs) and `paddock mcp` (paddock-mcp.mjs) into outDir, and `more` (file name → entry) as the CLI. */
export function bundleCli(options: { cliEntry: string; mcpEntry: string; outDir: string; plugins?: Plugin[]; more?: Record<string, string> }): Promise<void>;
