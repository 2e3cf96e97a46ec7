import { Templates } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { printJson } from '../output/print-json.js';

/** `paddock template inspect`: the template as JSON. */
export async function inspectTemplate(name: string, _flags: { json?: boolean }, command: Command): Promise<void> {
  printJson(await Templates.get(name, connectionFor(command)));
}
