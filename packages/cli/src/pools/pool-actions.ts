import { parseSizeMiB } from '@paddock/core/client';
import { type PoolInfo, Pools } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { parsePositiveNumber } from '../options/parse-number.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';
import { printLines } from '../output/print-lines.js';

interface SetFlags {
  size: string;
  tier: string;
  memory?: string;
  cpus?: string;
  pids?: string;
  disk?: string;
  json?: boolean;
}

/** `paddock pool set TEMPLATE --size N …`: prints the pool's id. */
export async function setPool(template: string, flags: SetFlags, command: Command): Promise<void> {
  const size = Number(flags.size);
  if (!Number.isInteger(size) || size < 0) throw new UsageError(`--size: "${flags.size}" is not a whole number ≥ 0`);
  if (flags.tier !== 'container' && flags.tier !== 'gvisor') throw new UsageError(`--tier: expected container or gvisor, got "${flags.tier}"`);
  const limits: Record<string, number> = {};
  if (flags.memory !== undefined) limits.memoryMiB = parseSizeMiB(flags.memory, '--memory');
  if (flags.disk !== undefined) limits.diskMiB = parseSizeMiB(flags.disk, '--disk');
  if (flags.cpus !== undefined) limits.cpus = parsePositiveNumber(flags.cpus, '--cpus');
  if (flags.pids !== undefined) limits.pids = parsePositiveNumber(flags.pids, '--pids', 'integer');
  const pool = await Pools.set({ template, size, tier: flags.tier, limits }, connectionFor(command));
  if (flags.json) printJson(pool);
  else printLines([pool.id]);
}

export async function listPools(flags: { quiet?: boolean; json?: boolean }, command: Command): Promise<void> {
  const pools = await Pools.list(connectionFor(command));
  if (flags.json) printJson(pools);
  else if (flags.quiet) printLines(pools.map((p) => p.id));
  else process.stdout.write(formatTable(['ID', 'TEMPLATE', 'TIER', 'LIMITS', 'READY', 'HITS', 'MISSES', 'REFILL'], pools.map(poolRow)));
}

export async function removePools(ids: string[], flags: { all?: boolean }, command: Command): Promise<void> {
  const conn = connectionFor(command);
  const targets = flags.all ? (await Pools.list(conn)).map((p) => p.id) : ids;
  if (!flags.all && targets.length === 0) throw new UsageError('name the pools to remove, or --all');
  for (const id of targets) {
    await Pools.remove(id, conn);
    printLines([id]);
  }
}

function poolRow(p: PoolInfo): string[] {
  const { memoryMiB, cpus, pids, diskMiB } = p.limits;
  return [
    p.id,
    p.template,
    p.tier,
    `${memoryMiB}m/${cpus}cpu/${pids}p/${diskMiB}m`,
    `${p.ready}/${p.size}`,
    String(p.hits),
    String(p.misses),
    p.lastRefillMs === null ? '-' : `${Math.round(p.lastRefillMs)} ms`,
  ];
}
