import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** `paddock dashboard`: prints a one-time sign-in link to the web dashboard. */
export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description('print a one-time link that signs a browser in to the dashboard as your token (valid 2 minutes, once)')
    .action(
      lazyAction(async () => async (_flags: object, command: Command) => {
        const [{ createLoginLink }, { connectionFor }] = await Promise.all([import('@paddock/sdk'), import('../connection/connection-for.js')]);
        const link = await createLoginLink(connectionFor(command));
        process.stdout.write(`${link.url}\n`);
      }),
    );
}
