import { paddockVersion } from '@paddock/core/client';
import type { Command as CommandType } from 'commander';
import { Command } from './commander.js';

type Register = (program: CommandType) => void;

interface CommandGroup {
  /** The top-level commands `register` adds. */
  names: readonly string[];
  load: () => Promise<Register>;
}

/**
 * Every command, by the module that registers it, in the order `paddock
 * --help` lists them. A call loads only the group of the command it names:
 * the whole table costs a short call ~10% of its CPU (compiling it, and
 * commander's objects for ~150 commands and their options).
 * build-program.test.ts checks `names` against what each group registers.
 */
export const commandGroups: readonly CommandGroup[] = [
  {
    names: ['run', 'create', 'ls', 'inspect', 'kill', 'pause', 'resume', 'snapshot', 'fork', 'checkpoint', 'rollback', 'timeout'],
    load: async () => (await import('../sandboxes/sandbox-commands.js')).registerSandboxCommands,
  },
  { names: ['stats'], load: async () => (await import('../stats/stats-command.js')).registerStatsCommand },
  {
    names: ['exec', 'shell', 'takeover', 'handback', 'ps', 'logs', 'wait'],
    load: async () => (await import('../processes/process-commands.js')).registerProcessCommands,
  },
  { names: ['code'], load: async () => (await import('../code/code-commands.js')).registerCodeCommands },
  { names: ['cp'], load: async () => (await import('../files/cp-command.js')).registerCpCommand },
  { names: ['template'], load: async () => (await import('../templates/template-commands.js')).registerTemplateCommands },
  { names: ['volume'], load: async () => (await import('../volumes/volume-commands.js')).registerVolumeCommands },
  { names: ['pool'], load: async () => (await import('../pools/pool-commands.js')).registerPoolCommands },
  { names: ['net'], load: async () => (await import('../network/network-commands.js')).registerNetworkCommands },
  { names: ['port', 'port-forward'], load: async () => (await import('../ports/port-commands.js')).registerPortCommands },
  { names: ['desktop'], load: async () => (await import('../desktop/desktop-commands.js')).registerDesktopCommands },
  { names: ['secret'], load: async () => (await import('../secrets/secret-commands.js')).registerSecretCommands },
  { names: ['registry'], load: async () => (await import('../registries/registry-commands.js')).registerRegistryCommands },
  { names: ['gc'], load: async () => (await import('../system/gc-command.js')).registerGcCommand },
  { names: ['dashboard'], load: async () => (await import('../system/dashboard-command.js')).registerDashboardCommand },
  { names: ['tenant'], load: async () => (await import('../tenants/tenant-commands.js')).registerTenantCommands },
  { names: ['token', 'whoami'], load: async () => (await import('../tokens/token-commands.js')).registerTokenCommands },
  { names: ['audit'], load: async () => (await import('../audit/audit-commands.js')).registerAuditCommands },
  { names: ['policy'], load: async () => (await import('../policies/policy-commands.js')).registerPolicyCommands },
  { names: ['check'], load: async () => (await import('../check/check-command.js')).registerCheckCommand },
  { names: ['approvals'], load: async () => (await import('../approvals/approval-commands.js')).registerApprovalCommands },
  { names: ['mcp'], load: async () => (await import('../mcp/mcp-command.js')).registerMcpCommand },
  { names: ['gateway'], load: async () => (await import('../gateway/gateway-commands.js')).registerGatewayCommands },
  { names: ['version'], load: async () => (await import('../system/version-command.js')).registerVersionCommand },
];

// The global options that take a value, as buildProgram declares them.
const globalsWithValue = ['--url', '--token', '--ca-file'];

/**
 * The top-level command argv names, past the global options; undefined when
 * the call needs the whole table (help, an unknown option or command, none).
 * `--version` needs none of it: the version command's group is the smallest.
 */
export function commandNamed(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-V' || arg === '--version') return 'version';
    if (globalsWithValue.includes(arg)) i++;
    else if (!globalsWithValue.some((g) => arg.startsWith(`${g}=`))) return arg.startsWith('-') ? undefined : arg;
  }
  return undefined;
}

/**
 * The `paddock` command tree for a call with this argv: the group of the
 * command it names, or every group; nothing here loads the SDK.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<CommandType> {
  const name = commandNamed(argv);
  const named = commandGroups.find((g) => name !== undefined && g.names.includes(name));
  const registers = await Promise.all((named ? [named] : commandGroups).map((g) => g.load()));
  const program = new Command('paddock')
    .description('sandboxes for AI agents')
    .version(paddockVersion, '-V, --version', 'print the CLI version')
    .option('--url <url>', 'daemon URL (default: PADDOCK_URL, then the local daemon)')
    .option('--token <token>', 'API token (default: PADDOCK_TOKEN, then the local daemon’s token file)')
    .option('--ca-file <file>', 'PEM certificate authority to trust for an https daemon URL, in place of Node’s built-in ones (default: PADDOCK_CA_FILE)')
    // Needed for pass-through of the command's own options after `run`/`exec`; global options go first, as with docker.
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeErr: writeCommanderError })
    .addHelpText('after', exitCodesHelp);
  for (const register of registers) register(program);
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
