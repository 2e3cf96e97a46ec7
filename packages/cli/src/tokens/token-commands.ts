import type { Command } from 'commander';
import { collect } from '../options/collect.js';
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
    .option('--sandbox <ids>', 'only these sandboxes (comma-separated or repeatable); others are not found', collect)
    .option('-l, --label <key=value>', 'only sandboxes with this label; those it creates must carry it (repeatable)', collect)
    .option('--allow <actions>', 'only these actions: exec, files.read, files.write or API names such as sandbox.create (comma-separated)', collect)
    .option('--template <names>', 'sandboxes it creates are of these templates (comma-separated or repeatable)', collect)
    .option('--tier <tiers>', 'sandboxes it creates run in these tiers: container, gvisor (comma-separated or repeatable)', collect)
    .option('--max-uses <n>', 'API calls it may make in all')
    .option('--max-sandboxes <n>', 'sandboxes it may create in all')
    .option('--ttl <duration>', 'how long it works: 15m, 1h, 7d (default: for ever, or as long as your own expiring token)')
    .option('--e2b', 'a secret of E2B API key shape (e2b_…), for E2B_API_KEY with the E2B SDKs')
    .action(lazyAction(async () => (await import('./create-token.js')).createToken));

  token
    .command('ls')
    .description('list tokens, revoked ones included, with their scopes')
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
