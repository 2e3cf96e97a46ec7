import { Volumes } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { printJson } from '../output/print-json.js';

/** `paddock volume inspect`: the volume as JSON. */
export async function inspectVolume(name: string, _flags: { json?: boolean }, command: Command): Promise<void> {
  printJson((await Volumes.get(name, connectionFor(command))).info);
}
