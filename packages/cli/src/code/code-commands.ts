import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** code: a cell of code in a sandbox's kernel. */
export function registerCodeCommands(program: Command): void {
  program
    .command('code')
    .description('run code in a stateful kernel of a sandbox (Python, JavaScript or Bash), from a file or stdin; exits 1 when the code raised')
    .argument('<id>', 'sandbox id')
    .option('-f, --file <path>', 'the code to run (default: stdin; at a terminal, a read-eval-print loop)')
    .option(
      '-i, --interactive',
      'a read-eval-print loop even when stdin is not a terminal: each line runs, a line ending in : { ( [ or \\ starts a cell that a blank line ends',
    )
    .option('-c, --context <id>', "the code context to run in (default: the sandbox's default context of the language)")
    .option('-l, --language <language>', 'python (default), javascript or bash')
    .option('--timeout <duration>', 'interrupt the cell after this long, e.g. 30s; the kernel keeps its state and code exits 124')
    .action(lazyAction(async () => (await import('./run-code.js')).runCode));
}
