import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { formatBytes, progressPrinter } from '@paddock/core/client';
import { Templates } from '@paddock/sdk';
import type { Command } from 'commander';
import type { Connection } from '../connection/resolve-connection.js';
import { CliError } from '../output/cli-error.js';
import { formatTable, printJson, relativeTime } from '../output/table.js';

export function registerTemplateCommands(program: Command, connection: () => Connection): void {
  const template = program.command('template').description('build, list and remove templates');

  template
    .command('build')
    .description('build a template from a Paddockfile (FROM/RUN/COPY/ENV/WORKDIR/USER)')
    .argument('<name>', 'name of the new template')
    .argument('[context]', 'build context folder (default: the Paddockfile’s folder)')
    .option('-f, --file <path>', 'the Paddockfile', 'Paddockfile')
    .option('--from <parent>', 'parent template when the Paddockfile has no FROM', 'base')
    .action(async (name: string, contextArg: string | undefined, flags: { file: string; from: string }) => {
      const file = resolve(flags.file);
      if (!existsSync(file)) throw new CliError(`${flags.file}: no such file`);
      const paddockfile = readFileSync(file, 'utf8');
      const contextDir = resolve(contextArg ?? dirname(file));
      if (!statSync(contextDir).isDirectory()) throw new CliError(`${contextDir}: not a folder`);
      const needsContext = /^\s*COPY\s/im.test(paddockfile);
      const context = needsContext ? packContext(contextDir) : undefined;
      const tty = Boolean(process.stderr.isTTY);
      const bar = progressPrinter(`template ${name}`);
      const built = await Templates.build({
        ...connection(),
        name,
        from: flags.from,
        paddockfile,
        context,
        onEvent: (e) => {
          if (e.type === 'step') {
            if (tty) bar.update({ phase: 'step', fraction: (e.index - 1) / e.total, message: `step ${e.index}/${e.total}: ${e.text}` });
            else process.stderr.write(`Step ${e.index}/${e.total} : ${e.text}\n`);
          } else if (e.type === 'log' && !tty) {
            (e.stream === 'stderr' ? process.stderr : process.stderr).write(e.data);
          }
        },
      });
      if (tty) bar.done(`built ${built.name} (${formatBytes(built.sizeBytes)})`);
      process.stdout.write(`${built.name}\n`);
    });

  template
    .command('ls')
    .description('list templates')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const list = await Templates.list(connection());
      if (flags.json) return printJson(list);
      const rows = list.map((t) => [t.name, t.parent ?? '-', formatBytes(t.sizeBytes), relativeTime(t.createdAt)]);
      process.stdout.write(`${formatTable(['NAME', 'PARENT', 'SIZE', 'CREATED'], rows)}\n`);
    });

  template
    .command('inspect')
    .description('show a template (JSON)')
    .argument('<name>')
    .action(async (name: string) => printJson(await Templates.get(name, connection())));

  template
    .command('rm')
    .description('remove templates no sandbox or child template uses')
    .argument('<names...>')
    .action(async (names: string[]) => {
      for (const name of names) {
        await Templates.remove(name, connection());
        process.stdout.write(`${name}\n`);
      }
    });
}

const maxContextBytes = 64 * 1024 * 1024;

function packContext(dir: string): Uint8Array {
  try {
    return new Uint8Array(execFileSync('tar', ['-c', '--exclude-vcs', '-C', dir, '.'], { maxBuffer: maxContextBytes, stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOBUFS') {
      throw new CliError(`build context ${dir} is larger than ${formatBytes(maxContextBytes)}; pass a smaller folder as CONTEXT`);
    }
    throw new CliError(`cannot pack the build context ${dir}: ${(err as Error).message}`);
  }
}
