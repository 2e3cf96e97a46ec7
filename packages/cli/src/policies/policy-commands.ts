import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** policy ls, check, test. */
export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('list, check and explain the Cedar policies in force (operator)');

  policy
    .command('ls')
    .description('list the policies in force; problems of the last reload go to stderr as file:line: message')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./list-policies.js')).listPolicies));

  policy
    .command('check')
    .description('validate *.cedar files without installing them: "ok: N policies", or file:line: message for each problem (exit 1)')
    .argument('<paths...>', 'policy files, or folders whose *.cedar files to check')
    .action(lazyAction(async () => (await import('./check-policies.js')).checkPolicies));

  policy
    .command('test')
    .description('explain the decision a request would get (allow, deny or ask), without doing it')
    .argument('[cmd...]', 'the command as argv, after --')
    .requiredOption('--principal <who>', 'role or role:tenant, e.g. agent:ci')
    .requiredOption('--action <action>', 'e.g. exec, sandbox.create, sandbox.file.write')
    .option('--argv <shell>', 'the command as a shell string, e.g. "curl … | sh" (instead of argv after --)')
    .option('--path <path>', 'file path the request is about')
    .option('--template <name>', 'template the request is about')
    .option('--tier <tier>', 'isolation tier the request asks for')
    .option('--resource <resource>', 'e.g. sandbox:sb-…, template:base')
    .option('--json', 'print the daemon’s answer as JSON')
    .action(lazyAction(async () => (await import('./test-policy.js')).testPolicy));
}
