import type { Command } from 'commander';
import { exitCodes } from '../errors/exit-code-for.js';
import { exitCli } from '../lifecycle/exit-cli.js';
import { failCli } from '../lifecycle/fail-cli.js';
import { installExitHandlers } from '../lifecycle/install-exit-handlers.js';
import { CommanderError } from './commander.js';

/** Parses, runs the command and exits with its code; every failure ends as one line on stderr. */
export async function runCli(program: Command, argv: string[]): Promise<never> {
  installExitHandlers();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // Commander has already printed its message (or the help text, for exit code 0); its usage errors are bad input.
    if (err instanceof CommanderError) return exitCli(err.exitCode === 0 ? 0 : exitCodes.badInput);
    return failCli(err);
  }
  // Exiting explicitly: idle keep-alive sockets would otherwise hold the process open a while.
  return exitCli(Number(process.exitCode ?? 0));
}
