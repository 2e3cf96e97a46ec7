import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** paddock mcp: the MCP server over stdio, for desktop agents and IDEs. */
export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description('serve Paddock as an MCP server on stdin/stdout (tools: sandboxes, commands, code, files, network, and the gateway’s), until stdin closes')
    .option(
      '--approval-wait <duration>',
      'when a policy asks a human about a gateway tool call, wait this long (at most 10m) before answering approval_required, e.g. 2m',
    )
    .action(lazyAction(async () => (await import('./serve-mcp.js')).serveMcp));
}
