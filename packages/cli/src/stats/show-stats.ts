import { ApiClient, apiCall, Events, type MetricsSample, Sandbox, type SandboxInfo, type SandboxMetrics } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { formatTable } from '../output/format-table.js';
import { printJson } from '../output/print-json.js';

export interface StatsFlags {
  /** commander's --no-stream: false when given. */
  stream: boolean;
  json?: boolean;
}

/** One sandbox's row: what it is, and its newest reading (null before the first tick). */
interface Row {
  sandbox: SandboxInfo;
  current: MetricsSample | null;
}

/**
 * `paddock stats`: the newest reading of each sandbox, then (unless
 * --no-stream) a redraw on each sampling tick from the events stream, with
 * sandboxes made or ended meanwhile added or dropped (unless ids were named).
 */
export async function showStats(ids: string[], flags: StatsFlags, command: Command): Promise<void> {
  const conn = connectionFor(command);
  const api = new ApiClient(conn);
  const sandboxes = ids.length
    ? await Promise.all(ids.map((id) => api.json<SandboxInfo>(apiCall('GET /v1/sandboxes/{id}', { id }))))
    : await Sandbox.list({ ...conn });
  const rows = new Map<string, Row>();
  await Promise.all(
    sandboxes.map(async (sandbox) => {
      const metrics = await api.json<SandboxMetrics>(apiCall('GET /v1/sandboxes/{id}/metrics', { id: sandbox.id }));
      rows.set(sandbox.id, { sandbox, current: metrics.current });
    }),
  );
  if (!flags.stream) {
    if (flags.json) printJson([...rows.values()].map(jsonRow));
    else process.stdout.write(statsTable([...rows.values()]));
    return;
  }
  const tty = process.stdout.isTTY === true && !flags.json;
  const draw = () => {
    const list = [...rows.values()];
    if (flags.json) process.stdout.write(`${JSON.stringify(list.map(jsonRow))}\n`);
    // Home and clear, as docker stats redraws its table in place.
    else process.stdout.write(`${tty ? '\x1b[H\x1b[2J' : ''}${statsTable(list)}`);
  };
  draw();
  // Until Ctrl-C (the CLI's exit handlers end it, 130), or the daemon ends the stream (an error, exit 1).
  await Events.subscribe({ ...conn, topics: ['sandbox', 'metrics'] }, (event) => {
    if (event.event === 'sandbox') {
      const { kind, sandbox } = event.data;
      if (kind === 'ended') rows.delete(sandbox.id);
      else if (rows.has(sandbox.id)) rows.set(sandbox.id, { sandbox, current: rows.get(sandbox.id)?.current ?? null });
      else if (kind === 'created' && ids.length === 0) rows.set(sandbox.id, { sandbox, current: null });
    } else if (event.event === 'metrics') {
      for (const [id, sample] of Object.entries(event.data.samples)) {
        const row = rows.get(id);
        if (row) row.current = sample;
      }
      draw();
    }
  });
}

function jsonRow({ sandbox, current }: Row): Record<string, unknown> {
  return { id: sandbox.id, template: sandbox.template, state: sandbox.state, metrics: current };
}

export function statsTable(rows: Row[]): string {
  return formatTable(
    ['ID', 'TEMPLATE', 'STATE', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'PIDS'],
    rows.map(({ sandbox, current: m }) => [
      sandbox.id,
      sandbox.template,
      sandbox.state,
      m ? `${m.cpuPercent.toFixed(2)}%` : '--',
      m ? `${bytes(m.memoryBytes)} / ${m.memoryLimitBytes === null ? 'unlimited' : bytes(m.memoryLimitBytes)}` : '--',
      m?.memoryLimitBytes ? `${((m.memoryBytes / m.memoryLimitBytes) * 100).toFixed(2)}%` : '--',
      m ? `${bytes(m.netRxBytes)} / ${bytes(m.netTxBytes)}` : '--',
      m ? String(m.pids) : '--',
    ]),
  );
}

/** As docker stats writes sizes: 1.5MiB, 512KiB, 0B. */
function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(value < 10 ? 2 : 1)}${units[unit]}`;
}
