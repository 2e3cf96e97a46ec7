import { Volumes } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { exitCodeFor } from '../errors/exit-code-for.js';
import { printLines } from '../output/print-lines.js';

/** `paddock volume rm`: prints each removed name; one line on stderr for each that could not be. */
export async function removeVolumes(names: string[], _flags: object, command: Command): Promise<void> {
  const conn = connectionFor(command);
  for (const name of names) {
    try {
      await Volumes.delete(name, conn);
      printLines([name]);
    } catch (err) {
      process.stderr.write(`paddock: ${(err as Error).message}\n`);
      process.exitCode = exitCodeFor(err);
    }
  }
}
