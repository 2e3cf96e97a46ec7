import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** template build, ls, rm, inspect. */
export function registerTemplateCommands(program: Command): void {
  const template = program.command('template').description('build, list, inspect and remove templates');

  template
    .command('build')
    .description('build a template from a Dockerfile or a Paddockfile; cached steps are not run again')
    .argument('<name>', 'name of the new template')
    .argument('[context]', 'build context folder, for COPY and ADD (default: the file’s folder); its .dockerignore applies')
    .option('-f, --file <path>', 'the Dockerfile or Paddockfile (default: Paddockfile, else Dockerfile, in CONTEXT or .)')
    .option('--from <parent>', 'parent template when the file has no FROM (default: base)')
    .option('--build-arg <name=value>', 'value of an ARG; repeatable', (v: string, all: string[] = []) => [...all, v])
    .option('--allow-domain <host>', 'host RUN and ADD may reach through the egress proxy; repeatable', (v: string, all: string[] = []) => [...all, v])
    .option('--secret <name>', 'secret RUN steps get as a placeholder; repeatable', (v: string, all: string[] = []) => [...all, v])
    .option('--no-cache', 'run every step, reusing no cached layer')
    .option('--from-image <ref>', 'instead of a Dockerfile or Paddockfile: pull this OCI image (registry/name:tag or …@sha256:…, linux/amd64)')
    .action(lazyAction(async () => (await import('./build-template.js')).buildTemplate));

  template
    .command('prepare')
    .description('make a template ready: one the daemon carries (code-interpreter, desktop) is built now, with its progress, if it is not yet')
    .argument('<name>', 'the template')
    .action(lazyAction(async () => (await import('./prepare-template.js')).prepareTemplate));

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
