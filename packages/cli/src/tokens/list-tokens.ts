import { type TokenInfo, Tokens } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { timeAgo } from '../output/relative-time.js';

/** `paddock token ls`: the tokens (never their secrets), revoked ones included. */
export async function listTokens(flags: { tenant?: string; json?: boolean }, command: Command): Promise<void> {
  const tokens = await Tokens.list({ ...connectionFor(command), tenant: flags.tenant });
  if (flags.json) return printJson(tokens);
  process.stdout.write(formatTable(['ID', 'TENANT', 'ROLE', 'OWNER', 'NAME', 'CREATED', 'REVOKED'], tokens.map(tokenRow)));
}

function tokenRow(t: TokenInfo): string[] {
  return [t.id, t.tenant, t.role, t.owner, t.name ?? '-', timeAgo(t.createdAt), timeAgo(t.revokedAt)];
}
