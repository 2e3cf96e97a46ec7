import { Tokens } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { exitCodeFor } from '../errors/exit-code-for.js';
import { printLines } from '../output/print-lines.js';

/** `paddock token revoke`: prints each revoked id; one line on stderr for each that could not be. */
export async function revokeTokens(ids: string[], _flags: object, command: Command): Promise<void> {
  const conn = connectionFor(command);
  for (const id of ids) {
    try {
      printLines([(await Tokens.revoke(id, conn)).id]);
    } catch (err) {
      process.stderr.write(`paddock: ${(err as Error).message}\n`);
      process.exitCode = exitCodeFor(err);
    }
  }
}
