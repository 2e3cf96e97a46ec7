import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** template build, ls, rm, inspect. */
export function registerTemplateCommands(program: Command): void {
  const template = program.command('template').description('build, list, inspect and remove templates');

  template
    .command('build')
    .description('build a template from a Paddockfile (FROM, RUN, COPY, ENV, WORKDIR, USER)')
    .argument('<name>', 'name of the new template')
    .argument('[context]', 'build context folder, for COPY (default: the Paddockfile’s folder)')
    .option('-f, --file <path>', 'the Paddockfile (default: ./Paddockfile, or CONTEXT/Paddockfile)')
    .option('--from <parent>', 'parent template when the Paddockfile has no FROM (default: base)')
    .option('--from-image <ref>', 'instead of a Paddockfile: pull this OCI image (registry/name:tag or …@sha256:…, linux/amd64)')
    .action(lazyAction(async () => (await import('./build-template.js')).buildTemplate));

  template
    .command('import')
    .description('make a template from a `docker save` or OCI layout archive')
    .argument('<archive>', 'the .tar file')
    .requiredOption('--name <name>', 'name of the new template')
    .action(lazyAction(async () => (await import('./image-templates.js')).importTemplate));

  template
    .command('ls')
    .description('list templates')
    .option('--json', 'print JSON')
    .action(lazyAction(async () => (await import('./list-templates.js')).listTemplates));

  template
    .command('inspect')
    .description('show a template, as JSON')
    .argument('<name>', 'template name')
    .option('--json', 'print JSON (the default)')
    .action(lazyAction(async () => (await import('./inspect-template.js')).inspectTemplate));

  template
    .command('rm')
    .description('remove templates that no sandbox or child template uses')
    .argument('<names...>', 'template names')
    .action(lazyAction(async () => (await import('./remove-templates.js')).removeTemplates));
}
