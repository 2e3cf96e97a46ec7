import type { Command } from 'commander';
import { exitCodes } from '../errors/exit-code-for.js';
import { exitCli } from '../lifecycle/exit-cli.js';
import { reportFailure } from '../lifecycle/fail-cli.js';
import { installExitHandlers } from '../lifecycle/install-exit-handlers.js';
import { CommanderError } from './commander.js';

/**
 * Parses and runs the command and returns the code the CLI should end with;
 * every failure is reported as one line on stderr. Commands say their code
 * through process.exitCode.
 */
export async function runCommand(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // Commander has already printed its message (or the help text, for exit code 0); its usage errors are bad input.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : exitCodes.badInput;
    return reportFailure(err);
  }
  return Number(process.exitCode ?? 0);
}

/** Runs the command and exits with its code. */
export async function runCli(program: Command, argv: string[]): Promise<never> {
  installExitHandlers();
  // Exiting explicitly: idle keep-alive sockets would otherwise hold the process open a while.
  return exitCli(await runCommand(program, argv));
}
