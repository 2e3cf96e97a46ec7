import { paddockVersion } from '@paddock/core/client';
import type { Command as CommandType } from 'commander';
import { registerApprovalCommands } from '../approvals/approval-commands.js';
import { registerAuditCommands } from '../audit/audit-commands.js';
import { registerCheckCommand } from '../check/check-command.js';
import { registerCodeCommands } from '../code/code-commands.js';
import { registerDesktopCommands } from '../desktop/desktop-commands.js';
import { registerCpCommand } from '../files/cp-command.js';
import { registerGatewayCommands } from '../gateway/gateway-commands.js';
import { registerMcpCommand } from '../mcp/mcp-command.js';
import { registerNetworkCommands } from '../network/network-commands.js';
import { registerPolicyCommands } from '../policies/policy-commands.js';
import { registerPoolCommands } from '../pools/pool-commands.js';
import { registerPortCommands } from '../ports/port-commands.js';
import { registerProcessCommands } from '../processes/process-commands.js';
import { registerRegistryCommands } from '../registries/registry-commands.js';
import { registerSandboxCommands } from '../sandboxes/sandbox-commands.js';
import { registerSecretCommands } from '../secrets/secret-commands.js';
import { registerStatsCommand } from '../stats/stats-command.js';
import { registerDashboardCommand } from '../system/dashboard-command.js';
import { registerGcCommand } from '../system/gc-command.js';
import { registerVersionCommand } from '../system/version-command.js';
import { registerTemplateCommands } from '../templates/template-commands.js';
import { registerTenantCommands } from '../tenants/tenant-commands.js';
import { registerTokenCommands } from '../tokens/token-commands.js';
import { registerVolumeCommands } from '../volumes/volume-commands.js';
import { Command } from './commander.js';

/** The `paddock` command tree; nothing here loads the SDK. */
export function buildProgram(): CommandType {
  const program = new Command('paddock')
    .description('sandboxes for AI agents')
    .version(paddockVersion, '-V, --version', 'print the CLI version')
    .option('--url <url>', 'daemon URL (default: PADDOCK_URL, then the local daemon)')
    .option('--token <token>', 'API token (default: PADDOCK_TOKEN, then the local daemon’s token file)')
    .option('--ca-file <file>', 'PEM certificate authority to trust for an https daemon URL, besides the system’s (default: PADDOCK_CA_FILE)')
    // Needed for pass-through of the command's own options after `run`/`exec`; global options go first, as with docker.
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeErr: writeCommanderError })
    .addHelpText('after', exitCodesHelp);
  registerSandboxCommands(program);
  registerStatsCommand(program);
  registerProcessCommands(program);
  registerCodeCommands(program);
  registerCpCommand(program);
  registerTemplateCommands(program);
  registerVolumeCommands(program);
  registerPoolCommands(program);
  registerNetworkCommands(program);
  registerPortCommands(program);
  registerDesktopCommands(program);
  registerSecretCommands(program);
  registerRegistryCommands(program);
  registerGcCommand(program);
  registerDashboardCommand(program);
  registerTenantCommands(program);
  registerTokenCommands(program);
  registerAuditCommands(program);
  registerPolicyCommands(program);
  registerCheckCommand(program);
  registerApprovalCommands(program);
  registerMcpCommand(program);
  registerGatewayCommands(program);
  registerVersionCommand(program);
  return program;
}

const exitCodesHelp = `
Exit codes:
  0        success
  1        failure (the message says what failed)
  2        bad input: a flag, an argument, or a request the daemon refused as invalid
  124      wait --timeout passed (the command goes on)
  125      the daemon cannot be reached, or run could not make its sandbox
  126/127  the command cannot run / was not found
  128+N    ended by signal N (130: Ctrl-C)
  run and exec otherwise exit with the command's own code.`;

/** Commander's errors become one `paddock: …` line (its suggestions included); help text passes as is. */
function writeCommanderError(text: string): void {
  if (!text.startsWith('error: ')) return void process.stderr.write(text);
  let message = text
    .slice('error: '.length)
    .trim()
    .replace(/\s*\n\s*/g, ' ');
  if (/^unknown option '--(url|token)'/.test(message)) message += ' (global options go first: paddock --url URL ls)';
  process.stderr.write(`paddock: ${message}\n`);
}
