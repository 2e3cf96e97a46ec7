#!/usr/bin/env node
import { paddockVersion } from '@paddock/core/client';
import { ApiClient } from '@paddock/sdk';
import { Command, CommanderError } from 'commander';
import { registerCpCommand } from './commands/cp-command.js';
import { registerManageCommands } from './commands/manage-commands.js';
import { registerRunCommands } from './commands/run-commands.js';
import { registerTemplateCommands } from './commands/template-commands.js';
import { type Connection, resolveConnection } from './connection/resolve-connection.js';
import { exitWithError } from './output/cli-error.js';

const program = new Command('paddock')
  .description('sandboxes for AI agents')
  .option('--url <url>', 'daemon URL (default: PADDOCK_URL, then the local daemon)')
  .option('--token <token>', 'API token (default: PADDOCK_TOKEN, then the local daemon’s token file)')
  .enablePositionalOptions()
  .showSuggestionAfterError()
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `paddock: ${s.slice(7)}` : s) });

const connection = (): Connection => resolveConnection(program.opts<{ url?: string; token?: string }>());

registerRunCommands(program, connection);
registerManageCommands(program, connection);
registerCpCommand(program, connection);
registerTemplateCommands(program, connection);

program
  .command('version')
  .description('print the CLI and daemon versions')
  .action(async () => {
    process.stdout.write(`paddock ${paddockVersion}\n`);
    try {
      const health = await new ApiClient({ ...connection(), requestTimeoutMs: 2000 }).json<{ version: string }>('GET', '/v1/health');
      process.stdout.write(`paddockd ${health.version}\n`);
    } catch {
      process.stdout.write('paddockd not reachable\n');
    }
  });

try {
  await program.parseAsync(process.argv);
  // Idle keep-alive sockets would hold the process open for a while; the work is done.
  process.exit(process.exitCode ?? 0);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has already printed its one-line message (or the help text).
    process.exit(err.exitCode === 0 ? 0 : err.exitCode || 1);
  }
  exitWithError(err);
}
