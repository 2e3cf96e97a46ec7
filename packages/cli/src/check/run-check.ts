import { writeFile } from 'node:fs/promises';
import { tiers as allTiers, type CheckOutput, type CheckReport, type ProbeSummary, progressPrinter, type Tier } from '@paddock/core';
import { checkDeployment } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { UsageError } from '../errors/cli-error.js';
import { onCleanup } from '../lifecycle/cleanup.js';
import { printJson } from '../output/print-json.js';
import { checkHtml } from './check-html.js';
import { checkTable } from './check-table.js';

interface CheckFlags {
  probes?: boolean;
  tier?: string[];
  probe?: string[];
  json?: boolean;
  html?: string;
}

/** `paddock check [--probes] [--json] [--html FILE]`; exit code 1 when anything failed or broke. */
export async function runCheck(flags: CheckFlags, command: Command): Promise<void> {
  const tiers = probeTiers(flags);
  const conn = connectionFor(command);
  const report = await checkDeployment(conn);
  if (flags.probe && !flags.probes) throw new UsageError('--probe chooses what --probes runs: add --probes');
  const probes = flags.probes ? await runProbesLive(conn, tiers, flags.probe) : undefined;
  const output = withVerdict(report, probes);
  if (flags.html) await writeFile(flags.html, checkHtml(output));
  if (flags.json) printJson(output);
  else process.stdout.write(checkTable(output, { colour: !!process.stdout.isTTY && !process.env.NO_COLOR }));
  if (!output.ok) process.exitCode = 1;
}

function probeTiers(flags: CheckFlags): Tier[] {
  const asked = flags.tier ?? [...allTiers];
  const unknown = asked.filter((t) => !(allTiers as readonly string[]).includes(t));
  if (unknown.length) throw new UsageError(`unknown tier ${unknown.join(', ')} (one of ${allTiers.join(', ')})`);
  if (flags.tier && !flags.probes) throw new UsageError('--tier chooses the tiers --probes runs on: add --probes');
  return asked as Tier[];
}

async function runProbesLive(conn: ReturnType<typeof connectionFor>, tiers: Tier[], ids: string[] | undefined): Promise<ProbeSummary> {
  // Loaded only for --probes: the plain report stays quick to start.
  const { runProbes, probes } = await import('@paddock/sdk/probes');
  const unknown = (ids ?? []).filter((id) => !probes.some((p) => p.id === id));
  if (unknown.length) throw new UsageError(`unknown probe ${unknown.join(', ')} (one of ${probes.map((p) => p.id).join(', ')})`);
  const controller = new AbortController();
  const progress = progressPrinter('probes');
  const started = Date.now();
  const run = runProbes({
    conn,
    tiers,
    only: ids ? probes.filter((p) => ids.includes(p.id)) : undefined,
    signal: controller.signal,
    onResult: (r, done, total) => progress.update({ phase: `${r.id} on ${r.tier}`, fraction: done / total, message: `${r.id} ${r.tier}: ${r.status}` }),
  });
  // Ctrl-C (or any other end) kills every sandbox the probes made before the CLI exits.
  const unregister = onCleanup(async () => {
    controller.abort();
    await run.catch(() => {});
  });
  try {
    const results = await run;
    const attempted = results.filter((r) => r.status !== 'not-applicable').length;
    const broken = results.filter((r) => r.status === 'broken').length;
    progress.done(`probes: ${results.length} run, ${broken} broken`);
    return { tiers, results, attempted, broken, brokenShare: attempted ? broken / attempted : 0, durationMs: Date.now() - started };
  } finally {
    unregister();
  }
}

function withVerdict(report: CheckReport, probes: ProbeSummary | undefined): CheckOutput {
  const failed = [...report.host, ...report.config, ...report.policies].some((i) => i.status === 'fail');
  return { ...report, ...(probes ? { probes } : {}), ok: !failed && !probes?.broken };
}
