import { collapseScopeActions } from '@paddock/core/client';
import { type TokenInfo, Tokens } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { timeAgo, timeUntil } from '../output/relative-time.js';

/** `paddock token ls`: the tokens (never their secrets), revoked ones included, each with its scope. */
export async function listTokens(flags: { tenant?: string; json?: boolean }, command: Command): Promise<void> {
  const tokens = await Tokens.list({ ...connectionFor(command), tenant: flags.tenant });
  if (flags.json) return printJson(tokens);
  process.stdout.write(formatTable(['ID', 'TENANT', 'ROLE', 'OWNER', 'NAME', 'SCOPE', 'EXPIRES', 'CREATED', 'REVOKED'], tokens.map(tokenRow)));
}

function tokenRow(t: TokenInfo): string[] {
  return [t.id, t.tenant, t.role, t.owner, t.name ?? '-', scopeText(t), expiry(t.expiresAt), timeAgo(t.createdAt), timeAgo(t.revokedAt)];
}

/** The scope in one cell: each narrowing field, and the uses spent of those allowed. */
function scopeText({ scope, uses, sandboxesCreated }: TokenInfo): string {
  if (!scope) return '-';
  const parts: string[] = [];
  if (scope.sandboxes) parts.push(`sandboxes=${scope.sandboxes.join(',')}`);
  if (scope.labels)
    parts.push(
      `labels=${Object.entries(scope.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`,
    );
  if (scope.actions) parts.push(`actions=${collapseScopeActions(scope.actions).join(',')}`);
  if (scope.templates) parts.push(`templates=${scope.templates.join(',')}`);
  if (scope.tiers) parts.push(`tiers=${scope.tiers.join(',')}`);
  if (scope.maxUses !== undefined) parts.push(`uses=${uses}/${scope.maxUses}`);
  if (scope.maxSandboxes !== undefined) parts.push(`sandboxes-created=${sandboxesCreated}/${scope.maxSandboxes}`);
  return parts.join(' ') || '-';
}

function expiry(expiresAt: string | null): string {
  if (!expiresAt) return '-';
  return Date.parse(expiresAt) <= Date.now() ? 'expired' : timeUntil(expiresAt);
}
