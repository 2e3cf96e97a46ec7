import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

const actions = async () => import('./gateway-actions.js');

/** gateway add|ls|inspect|tools|pin|restart|logs|call|rm|schema: third-party MCP servers, each in a sandbox. */
export function registerGatewayCommands(program: Command): void {
  const gateway = program
    .command('gateway')
    .description('third-party MCP servers run in sandboxes under their manifests; their tools are offered as <server>__<tool>');
  gateway
    .command('add')
    .description('add a server and wait until it is ready (its tools listed); the manifest says what it may do')
    .argument('<name>', 'its name (lowercase letters, digits, "-"); its tools become <name>__<tool>')
    .argument('[argv...]', 'the server command as argv, after --')
    .requiredOption('--manifest <file>', 'the manifest (JSON): template, tier, network, secrets, files, limits (`paddock gateway schema` prints its schema)')
    .option('--command <line>', 'the server command as one shell line, run with sh -c inside its sandbox')
    .option('--pin', 'pin its tool descriptions as first listed: a tool that changes later is held back')
    .option('--replace', 'replace a server of that name (it starts again; its pins stay)')
    .option('--no-wait', 'return at once instead of waiting until it is ready')
    .option('--json', 'print the server as JSON')
    .action(lazyAction(async () => (await actions()).addServer));
  gateway
    .command('ls')
    .description('servers: state, tools, restarts, sandbox')
    .option('-q, --quiet', 'names only')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await actions()).listServers));
  gateway
    .command('inspect')
    .description('a server as JSON: manifest, state, last error, tools with their descriptions and pin state')
    .argument('<name>')
    .action(lazyAction(async () => (await actions()).inspectServer));
  gateway
    .command('tools')
    .description('tools of every server (or one), with what clients are told of each; held-back ones are marked')
    .argument('[name]', 'only this server')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await actions()).listTools));
  gateway
    .command('pin')
    .description('pin the tool descriptions and schemas as listed now; a tool that changes afterwards is held back until pinned again')
    .argument('<name>')
    .action(lazyAction(async () => (await actions()).pinServer));
  gateway
    .command('restart')
    .description('start a server again now, in a fresh sandbox')
    .argument('<name>')
    .action(lazyAction(async () => (await actions()).restartServer));
  gateway
    .command('logs')
    .description("the server's stderr and its starts and ends")
    .argument('<name>')
    .option('-n, --lines <count>', 'how many lines (at most 500)')
    .action(lazyAction(async () => (await actions()).showLogs));
  gateway
    .command('call')
    .description('call a gateway tool as an agent would (policy, approvals and audit apply); prints its result')
    .argument('<tool>', '<server>__<tool>')
    .option('--args <json>', 'the arguments as a JSON object', '{}')
    .option('--wait-approval <duration>', 'when a policy asks a human about the call, wait this long (at most 10m) for the answer, e.g. 2m')
    .option('--approval <id>', 'an approved approval for this very call')
    .option('--json', 'print the whole result as JSON')
    .action(lazyAction(async () => (await actions()).callTool));
  gateway
    .command('rm')
    .description('remove servers and kill their sandboxes')
    .argument('<names...>')
    .action(lazyAction(async () => (await actions()).removeServers));
  gateway
    .command('schema')
    .description("print the manifest's JSON Schema")
    .action(lazyAction(async () => (await actions()).printSchema));
}
