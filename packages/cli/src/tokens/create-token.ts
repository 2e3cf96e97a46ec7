import { tokenTtlBounds } from '@paddock/core/client';
import { type Role, type TokenScope, Tokens } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { parseOptionalDuration } from '../options/parse-duration.js';
import { parsePositiveNumber } from '../options/parse-number.js';
import { parsePairs } from '../options/parse-pairs.js';

interface TokenFlags {
  tenant?: string;
  role: Role;
  name?: string;
  owner?: string;
  sandbox?: string[];
  label?: string[];
  allow?: string[];
  template?: string[];
  tier?: string[];
  maxUses?: string;
  maxSandboxes?: string;
  ttl?: string;
  e2b?: boolean;
}

/** `paddock token create`: only the secret goes to stdout, so TOKEN=$(paddock token create …) works. */
export async function createToken(flags: TokenFlags, command: Command): Promise<void> {
  const created = await Tokens.create(
    {
      tenant: flags.tenant,
      role: flags.role,
      name: flags.name,
      owner: flags.owner,
      scope: scopeOf(flags),
      ttlMs: parseOptionalDuration(flags.ttl, '--ttl', tokenTtlBounds),
      ...(flags.e2b ? { e2b: true } : {}),
    },
    connectionFor(command),
  );
  process.stdout.write(`${created.token}\n`);
  process.stderr.write(`${created.id}\n`);
}

/** The scope the flags describe; undefined (the role's reach) when none narrows it. */
function scopeOf(flags: TokenFlags): TokenScope | undefined {
  const scope: TokenScope = {};
  const sandboxes = list(flags.sandbox);
  if (sandboxes) scope.sandboxes = sandboxes;
  const labels = parsePairs(flags.label, '--label');
  if (labels) scope.labels = labels;
  const actions = list(flags.allow);
  if (actions) scope.actions = actions;
  const templates = list(flags.template);
  if (templates) scope.templates = templates;
  const tiers = list(flags.tier);
  if (tiers) scope.tiers = tiers as TokenScope['tiers'];
  if (flags.maxUses !== undefined) scope.maxUses = parsePositiveNumber(flags.maxUses, '--max-uses', 'integer');
  if (flags.maxSandboxes !== undefined) scope.maxSandboxes = parseCount(flags.maxSandboxes, '--max-sandboxes');
  return Object.keys(scope).length ? scope : undefined;
}

/** Repeatable flags whose values may also be comma-separated (--allow exec,files.read). */
function list(values: string[] | undefined): string[] | undefined {
  const items = (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return items.length ? [...new Set(items)] : undefined;
}

/** --max-sandboxes 0 is a token that creates none. */
function parseCount(text: string, flag: string): number {
  return text.trim() === '0' ? 0 : parsePositiveNumber(text, flag, 'integer');
}
