import { UsageError } from '../errors/cli-error.js';

/** The command to run in the sandbox, from the arguments after the options. */
export function requireCommand(args: string[] | undefined): string[] {
  // With pass-through options, a `--` after the sandbox id arrives as an argument.
  const cmd = args?.[0] === '--' ? args.slice(1) : (args ?? []);
  if (cmd.length === 0) throw new UsageError('missing command: give it after --, e.g. paddock run -- python3 -V');
  return cmd;
}
