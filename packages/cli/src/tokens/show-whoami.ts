import { whoami } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { printJson } from '../output/print-json.js';
import { printLines } from '../output/print-lines.js';

/** `paddock whoami`: "PRINCIPAL@TENANT (ROLE) for OWNER", as the audit log names callers, and whom the token acts for. */
export async function showWhoami(flags: { json?: boolean }, command: Command): Promise<void> {
  const me = await whoami(connectionFor(command));
  if (flags.json) return printJson(me);
  printLines([`${me.principal}@${me.tenant} (${me.role}) for ${me.owner}`]);
}
