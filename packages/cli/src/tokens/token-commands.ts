import type { Command } from 'commander';
import { Option } from '../program/commander.js';
import { lazyAction } from '../program/lazy-action.js';
import { roleChoices } from './role-choices.js';

/** token create, ls, revoke; whoami. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('create, list and revoke API tokens');

  token
    .command('create')
    .description('create a token; prints only the secret on stdout (shown once) and its id on stderr')
    .option('--tenant <tenant>', 'tenant the token acts for (default: your own)')
    .addOption(new Option('--role <role>', 'what the token may do').choices(roleChoices).makeOptionMandatory())
    .option('--name <note>', 'a note for humans, e.g. "ci agent"')
    .option(
      '--owner <owner>',
      'who it acts for: a person (alice@example.com) or an agent (agent:ci-bot); default: an agent token is an agent of its own, any other acts for you',
    )
    .action(lazyAction(async () => (await import('./create-token.js')).createToken));

  token
    .command('ls')
    .description('list tokens, revoked ones included')
    .option('--tenant <tenant>', 'only this tenant’s tokens')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./list-tokens.js')).listTokens));

  token
    .command('revoke')
    .description('revoke tokens at once; prints each revoked id')
    .argument('<ids...>', 'token ids')
    .action(lazyAction(async () => (await import('./revoke-tokens.js')).revokeTokens));

  program
    .command('whoami')
    .description('show the principal, tenant, role and owner of the token in use')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./show-whoami.js')).showWhoami));
}
