import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

export function registerCpCommand(program: Command): void {
  program
    .command('cp')
    .description('copy files or folders between here and a sandbox; one side is ID:/path, - is stdin/stdout')
    .argument('<src>', 'local path, ID:/path or -')
    .argument('<dest>', 'local path, ID:/path or -')
    .action(lazyAction(async () => (await import('./copy-files.js')).copyFiles));
}
