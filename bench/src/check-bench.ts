import { existsSync } from 'node:fs';
import { type CheckOutput, CheckOutputSchema } from '@paddock/core';
import { cliMain } from './bench-daemon.js';
import type { BenchContext } from './benchmarks.js';
import { timedSpawn } from './timed-spawn.js';

export type CheckOutcome = { measured: true; tiers: string[]; attempted: number; broken: number; failed: string[] } | { measured: false; reason: string };

/**
 * `paddock check` as an operator runs it against the bench daemon, with the
 * bundled CLI: the report alone (host facts, settings, policies), then with
 * `--probes` (the attack catalogue run live in new sandboxes of every tier
 * the daemon has), timed end to end, once each: the target is about minutes.
 */
export async function benchCheck(ctx: BenchContext): Promise<CheckOutcome> {
  const { daemon, samples } = ctx;
  if (!existsSync(cliMain)) return { measured: false, reason: `${cliMain} does not exist (the CLI is not built)` };
  const env = { ...process.env, PADDOCK_URL: daemon.endpoint.url, PADDOCK_TOKEN: daemon.token, PADDOCK_STATE_DIR: daemon.stateDir };
  const report = await timedSpawn(process.execPath, [cliMain, 'check', '--json'], { env, timeoutMs: 60_000 });
  const quick = parsed(report.stdout);
  if (!quick) return { measured: false, reason: `paddock check printed no report (exit ${report.code}): ${report.stderr.trim().split('\n')[0]}` };
  samples.add('check.report', report.totalMs);
  ctx.progress('  report done; running the probes on every tier');
  const probed = await timedSpawn(process.execPath, [cliMain, 'check', '--probes', '--json'], { env, timeoutMs: 10 * 60_000 });
  const full = parsed(probed.stdout);
  if (!full?.probes)
    return { measured: false, reason: `paddock check --probes printed no report (exit ${probed.code}): ${probed.stderr.trim().split('\n')[0]}` };
  samples.add('check.probes', probed.totalMs);
  const failed = [...full.host, ...full.config, ...full.policies].filter((i) => i.status === 'fail').map((i) => i.id);
  return { measured: true, tiers: full.probes.tiers, attempted: full.probes.attempted, broken: full.probes.broken, failed };
}

function parsed(stdout: string): CheckOutput | undefined {
  try {
    return CheckOutputSchema.parse(JSON.parse(stdout));
  } catch {
    return undefined;
  }
}
