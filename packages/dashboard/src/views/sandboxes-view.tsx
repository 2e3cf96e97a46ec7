import { memo, useCallback, useEffect, useMemo, useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { MetricsSample, SandboxInfo } from '../api/types.js';
import { useApp, useLive, useReloadOnLive } from '../app-context.js';
import { Sparkline } from '../charts/sparkline.js';
import { LoadState } from '../components/load-state.js';
import { errorText, formatBytes, formatDuration } from '../format.js';
import { runSandboxAction, type SandboxAction } from './sandbox-actions.js';
import { StatsCharts } from './stats-charts.js';
import { useFetch } from './use-fetch.js';

type StateFilter = 'live' | 'running' | 'paused' | 'killed' | 'all';
const historyLength = 30;
// Rows rendered in the first paint, then this many more per frame: a long list shows its top at once.
const rowsPerFrame = 100;
const noSamples: MetricsSample[] = [];

export function SandboxesView() {
  const { api, notify } = useApp();
  const [stateFilter, setStateFilter] = useState<StateFilter>('live');
  const [text, setText] = useState('');
  const [tier, setTier] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [metrics, setMetrics] = useState<Record<string, MetricsSample[]>>({});
  const query = stateFilter === 'live' ? undefined : stateFilter;
  const list = useFetch(
    (signal) => api.json<{ sandboxes: SandboxInfo[] }>(call('GET /v1/sandboxes'), { query: { state: query }, signal }).then((b) => b.sandboxes),
    [query],
  );

  useReloadOnLive(list.reload);
  useLive('sandbox', ({ kind, sandbox }) => {
    // Still loading: the list may have been read before this sandbox changed; read it again.
    if (list.loading) list.reload();
    list.set((current) => {
      if (!current) return current;
      const rest = current.filter((s) => s.id !== sandbox.id);
      const keep = kind !== 'ended' || stateFilter === 'killed' || stateFilter === 'all';
      if (!keep) return rest;
      const at = current.findIndex((s) => s.id === sandbox.id);
      if (at < 0) return [sandbox, ...current];
      const next = current.slice();
      next[at] = sandbox;
      return next;
    });
  });
  useLive('metrics', ({ samples }) => {
    setMetrics((current) => {
      const next: Record<string, MetricsSample[]> = {};
      for (const [id, sample] of Object.entries(samples)) next[id] = [...(current[id] ?? []), sample].slice(-historyLength);
      return next;
    });
  });

  const shown = useMemo(() => {
    const needle = text.trim().toLowerCase();
    return (list.data ?? []).filter(
      (s) =>
        (!tier || s.tier === tier) &&
        (!needle ||
          s.id.includes(needle) ||
          s.template.toLowerCase().includes(needle) ||
          Object.entries(s.metadata).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(needle))),
    );
  }, [list.data, text, tier]);

  const [rendered, setRendered] = useState(rowsPerFrame);
  useEffect(() => {
    if (rendered >= shown.length) return;
    const frame = requestAnimationFrame(() => setRendered((n) => n + rowsPerFrame));
    return () => cancelAnimationFrame(frame);
  }, [rendered, shown.length]);

  const act = async (action: SandboxAction) => {
    const targets = shown.filter((s) => selected.has(s.id));
    const results = await Promise.allSettled(targets.map((s) => runSandboxAction(api, s, action)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${targets[i]?.id}: ${errorText(r.reason)}`] : []));
    if (failed.length) notify(`Refused — ${failed.join('; ')}`, 'error');
    else notify(results.map((r) => (r.status === 'fulfilled' ? r.value : '')).join('; '));
    setSelected(new Set());
    list.reload();
  };

  const toggle = useCallback(
    (id: string) =>
      setSelected((current) => {
        const next = new Set(current);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        return next;
      }),
    [],
  );

  return (
    <section aria-labelledby="sandboxes-title">
      <h1 id="sandboxes-title">Sandboxes</h1>
      <StatsCharts />
      <form className="filters" aria-label="Filter sandboxes" onSubmit={(e) => e.preventDefault()}>
        <label>
          State
          <select value={stateFilter} onChange={(e) => setStateFilter(e.target.value as StateFilter)}>
            <option value="live">running and paused</option>
            <option value="running">running</option>
            <option value="paused">paused</option>
            <option value="killed">ended</option>
            <option value="all">all</option>
          </select>
        </label>
        <label>
          Tier
          <select value={tier} onChange={(e) => setTier(e.target.value)}>
            <option value="">any</option>
            <option value="container">container</option>
            <option value="gvisor">gvisor</option>
          </select>
        </label>
        <label>
          Search
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="id, template, label=value" />
        </label>
      </form>
      <div className="toolbar" role="toolbar" aria-label="Actions on the selected sandboxes">
        <span>{selected.size} selected</span>
        {(['pause', 'resume', 'extend', 'kill'] as const).map((action) => (
          <button
            key={action}
            type="button"
            disabled={selected.size === 0}
            onClick={() => void act(action)}
            className={action === 'kill' ? 'danger' : undefined}
          >
            {action === 'extend' ? 'Extend 10 min' : action[0]?.toUpperCase() + action.slice(1)}
          </button>
        ))}
        <span className="hint">Fork, snapshot, checkpoint and rollback: on a sandbox’s page.</span>
      </div>
      <LoadState loaded={list}>
        {() => (
          <table className="sandboxes">
            <caption className="visually-hidden">
              {shown.length} sandboxes{list.data && shown.length !== list.data.length ? ` of ${list.data.length}` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">
                  <span className="visually-hidden">Select</span>
                </th>
                <th scope="col">ID</th>
                <th scope="col">State</th>
                <th scope="col">Tier</th>
                <th scope="col">Template</th>
                <th scope="col">Labels</th>
                <th scope="col">Control</th>
                <th scope="col">Age</th>
                <th scope="col">Left</th>
                <th scope="col">CPU</th>
                <th scope="col">Memory</th>
                <th scope="col">PIDs</th>
                <th scope="col">Network</th>
              </tr>
            </thead>
            <tbody>
              {shown.slice(0, rendered).map((s) => (
                <SandboxRow key={s.id} sandbox={s} samples={metrics[s.id] ?? noSamples} selected={selected.has(s.id)} onToggle={toggle} />
              ))}
            </tbody>
          </table>
        )}
      </LoadState>
      {list.data && shown.length === 0 ? <p>No sandboxes match.</p> : null}
    </section>
  );
}

interface SandboxRowProps {
  sandbox: SandboxInfo;
  samples: MetricsSample[];
  selected: boolean;
  onToggle(id: string): void;
}

// Memoised: a live event re-renders the rows it changed, not all of them (500 rows must stay cheap).
const SandboxRow = memo(function SandboxRow({ sandbox: s, samples, selected, onToggle }: SandboxRowProps) {
  const now = Date.now();
  const last = samples.at(-1);
  const control = s.control?.mode === 'human' ? `human (${s.control.by})` : 'agent';
  return (
    <tr data-sandbox={s.id} className={s.control?.mode === 'human' ? 'human' : undefined}>
      <td>
        <input type="checkbox" checked={selected} onChange={() => onToggle(s.id)} aria-label={`Select ${s.id}`} />
      </td>
      <td>
        <a href={`#/sandboxes/${s.id}`}>{s.id}</a>
      </td>
      <td>
        <span className={`state ${s.state}`}>{s.state}</span>
      </td>
      <td>{s.tier}</td>
      <td>{s.template}</td>
      <td className="labels">
        {Object.entries(s.metadata).map(([k, v]) => (
          <span key={k} className="label">
            {k}={v}
          </span>
        ))}
      </td>
      <td>{control}</td>
      <td>{formatDuration(now - Date.parse(s.createdAt))}</td>
      <td>{s.expiresAt && !s.endedAt ? formatDuration(Date.parse(s.expiresAt) - now) : '–'}</td>
      <td>
        <Sparkline values={samples.map((m) => m.cpuPercent)} label={`CPU of ${s.id}`} max={100} />
        <span>{last ? `${last.cpuPercent.toFixed(1)}%` : '–'}</span>
      </td>
      <td>
        <Sparkline values={samples.map((m) => m.memoryBytes)} label={`memory of ${s.id}`} max={last?.memoryLimitBytes ?? undefined} />
        <span>{last ? formatBytes(last.memoryBytes) : '–'}</span>
      </td>
      <td>{last ? last.pids : '–'}</td>
      <td>
        {last ? `↓${formatBytes(last.netRxBytes)} ↑${formatBytes(last.netTxBytes)}` : '–'}
        {last && last.egressRefused > 0 ? <span className="refused-count"> {last.egressRefused} refused</span> : null}
      </td>
    </tr>
  );
});
