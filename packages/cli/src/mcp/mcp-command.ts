import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** paddock mcp: the MCP server over stdio, for desktop agents and IDEs. */
export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description('serve Paddock as an MCP server on stdin/stdout (tools: sandboxes, commands, code, files, network), until stdin closes')
    .action(lazyAction(async () => (await import('./serve-mcp.js')).serveMcp));
}
