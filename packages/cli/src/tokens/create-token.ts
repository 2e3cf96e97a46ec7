import { type Role, Tokens } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';

interface TokenFlags {
  tenant?: string;
  role: Role;
  name?: string;
  owner?: string;
}

/** `paddock token create`: only the secret goes to stdout, so TOKEN=$(paddock token create …) works. */
export async function createToken(flags: TokenFlags, command: Command): Promise<void> {
  const created = await Tokens.create({ tenant: flags.tenant, role: flags.role, name: flags.name, owner: flags.owner }, connectionFor(command));
  process.stdout.write(`${created.token}\n`);
  process.stderr.write(`${created.id}\n`);
}
