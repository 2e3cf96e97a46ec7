import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** volume create, ls, inspect, rm, cp, export, import. */
export function registerVolumeCommands(program: Command): void {
  const volume = program.command('volume').description('volumes: file systems of a fixed size that outlive sandboxes (mount them with run/create -v)');

  volume
    .command('create')
    .description("create a volume, empty or with a copy of a template's folder")
    .argument('<name>', 'volume name')
    .requiredOption('--size <size>', 'hard size limit, e.g. 512m, 10g')
    .option('--from-template <template:/path>', "start with a copy of this template's (or snapshot's) folder, e.g. py-ds:/work")
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./create-volume.js')).createVolume));

  volume
    .command('ls')
    .description('list volumes')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./list-volumes.js')).listVolumes));

  volume
    .command('inspect')
    .description('show a volume (size, use, the sandboxes it is mounted in), as JSON')
    .argument('<name>', 'volume name')
    .option('--json', 'print JSON (the default)')
    .action(lazyAction(async () => (await import('./inspect-volume.js')).inspectVolume));

  volume
    .command('rm')
    .description('remove volumes and their files (not while a sandbox mounts one)')
    .argument('<names...>', 'volume names')
    .action(lazyAction(async () => (await import('./remove-volumes.js')).removeVolumes));

  volume
    .command('cp')
    .description('copy files or folders between here and a volume, without a sandbox; one side is NAME:/path, - is stdin/stdout (files only)')
    .argument('<src>', 'local path, NAME:/path or -')
    .argument('<dest>', 'local path, NAME:/path or -')
    .action(lazyAction(async () => (await import('./copy-volume-files.js')).copyVolumeFiles));

  volume
    .command('export')
    .description('write a whole volume to stdout as a tar stream (folders, files, symlinks as links)')
    .argument('<name>', 'volume name')
    .action(lazyAction(async () => (await import('./volume-archive-commands.js')).exportVolume));

  volume
    .command('import')
    .description('extract a tar archive into a volume: files and folders only, every path inside it, no setuid bits')
    .argument('<name>', 'volume name')
    .argument('<file>', 'the archive, or - for stdin')
    .action(lazyAction(async () => (await import('./volume-archive-commands.js')).importVolume));
}
