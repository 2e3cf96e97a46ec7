import { type KeyboardEvent, memo, useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { MetricsSample, SandboxInfo } from '../api/types.js';
import { useApp, useLive, useReloadOnLive } from '../app-context.js';
import { Sparkline } from '../charts/sparkline.js';
import { LoadState } from '../components/load-state.js';
import { errorText, formatBytes, formatDuration } from '../format.js';
import { runSandboxAction, type SandboxAction } from './sandbox-actions.js';
import { StatsCharts } from './stats-charts.js';
import { useFetch } from './use-fetch.js';
import { type RowWindow, useRowWindow } from './use-row-window.js';

type StateFilter = 'live' | 'running' | 'paused' | 'killed' | 'all';
const historyLength = 30;
const noSamples: MetricsSample[] = [];
// Narrow enough for the list to fit 1280 pixels; the sandbox's page has the full charts.
const sparklineWidth = 48;

export function SandboxesView() {
  const { api, notify } = useApp();
  const [stateFilter, setStateFilter] = useState<StateFilter>('live');
  const [text, setText] = useState('');
  const [tier, setTier] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [metrics, setMetrics] = useState<Record<string, MetricsSample[]>>({});
  const [owner, setOwner] = useState('');
  const query = stateFilter === 'live' ? undefined : stateFilter;
  // Read at once, beside the live stream's handshake (not after it: the page shows the list a round trip sooner).
  // The read shown keeps the rows it shares with the last one (unchanged rows are not drawn again).
  const shownList = useRef<SandboxInfo[] | null>(null);
  const list = useFetch(
    (signal) =>
      api
        .json<{ sandboxes: SandboxInfo[] }>(call('GET /v1/sandboxes'), { query: { state: query }, signal })
        .then((b) => keepUnchanged(shownList.current, b.sandboxes)),
    [query],
  );
  shownList.current = list.data;
  // Once the stream is (again) subscribed, read once more: a change between a read and the subscription came as no event.
  useReloadOnLive(list.refresh);
  useLive('sandbox', ({ kind, sandbox }) => {
    // Still loading: the list may have been read before this sandbox changed; read it again once it comes.
    if (list.loading) list.refresh();
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
        (!owner || (s.owner ?? '') === owner) &&
        (!needle ||
          s.id.includes(needle) ||
          s.template.toLowerCase().includes(needle) ||
          (s.owner ?? '').toLowerCase().includes(needle) ||
          Object.entries(s.metadata).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(needle))),
    );
  }, [list.data, text, tier, owner]);
  const owners = useMemo(() => [...new Set((list.data ?? []).map((s) => s.owner ?? ''))].filter(Boolean).sort(), [list.data]);

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
          Owner
          <select value={owner} onChange={(e) => setOwner(e.target.value)}>
            <option value="">anyone</option>
            {owners.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="id, template, owner, label=value" />
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
        {() => <SandboxTable shown={shown} total={list.data?.length ?? 0} metrics={metrics} selected={selected} onToggle={toggle} />}
      </LoadState>
      {list.data && shown.length === 0 ? <p>No sandboxes match.</p> : null}
    </section>
  );
}

/**
 * `fresh`, with each sandbox that did not change since `shown` kept as the
 * object already shown: its memoised row is not drawn again.
 */
function keepUnchanged(shown: SandboxInfo[] | null, fresh: SandboxInfo[]): SandboxInfo[] {
  if (!shown) return fresh;
  const before = new Map(shown.map((s) => [s.id, s]));
  return fresh.map((s) => {
    const old = before.get(s.id);
    return old && JSON.stringify(old) === JSON.stringify(s) ? old : s;
  });
}

interface SandboxTableProps {
  shown: SandboxInfo[];
  total: number;
  metrics: Record<string, MetricsSample[]>;
  selected: Set<string>;
  onToggle(id: string): void;
}

/**
 * The list as a table that draws only the rows in view (and a few around):
 * 500 sandboxes cost what 30 do. The table still says how many rows it has
 * (aria-rowcount) and where each drawn one is (aria-rowindex); the arrow keys,
 * Page Up/Down, Home and End move between rows, drawing the one they reach.
 */
function SandboxTable({ shown, total, metrics, selected, onToggle }: SandboxTableProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const view: RowWindow = useRowWindow(scroller, shown.length);
  // The row a key moved to: focused once it is drawn (a new object each time, so each move renders).
  const [focusTarget, setFocusTarget] = useState<{ index: number } | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the window moving (first, last) is what draws the row to focus
  useLayoutEffect(() => {
    if (!focusTarget) return;
    const link = scroller.current?.querySelector<HTMLAnchorElement>(`tr[aria-rowindex="${focusTarget.index + 2}"] a`);
    link?.focus({ preventScroll: true });
  }, [focusTarget, view.first, view.last]);

  const onKeyDown = (event: KeyboardEvent<HTMLTableSectionElement>) => {
    const row = (event.target as HTMLElement).closest('tr[aria-rowindex]');
    if (!row) return;
    const at = Number(row.getAttribute('aria-rowindex')) - 2;
    const page = Math.max(1, view.visibleRows - 1);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, PageDown: at + page, PageUp: at - page, Home: 0, End: shown.length - 1 }[event.key];
    if (to === undefined || (event.target as HTMLElement).tagName === 'SELECT') return;
    event.preventDefault();
    const index = Math.min(shown.length - 1, Math.max(0, to));
    view.reveal(index);
    setFocusTarget({ index });
  };

  const now = Date.now();
  return (
    <div className="table-scroll" ref={scroller} onScroll={view.onScroll}>
      <table className="sandboxes" aria-rowcount={shown.length + 1}>
        <caption className="visually-hidden">
          {shown.length} sandboxes{shown.length !== total ? ` of ${total}` : ''}; the arrow keys move between rows
        </caption>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col" className="col-select">
              <span className="visually-hidden">Select</span>
            </th>
            <th scope="col" className="col-id">
              ID
            </th>
            <th scope="col" className="col-state">
              State
            </th>
            <th scope="col" className="col-tier">
              Tier
            </th>
            <th scope="col" className="col-template">
              Template
            </th>
            <th scope="col" className="col-owner">
              Owner
            </th>
            <th scope="col" className="col-labels">
              Labels
            </th>
            <th scope="col" className="col-control">
              Control
            </th>
            <th scope="col" className="col-age">
              Age
            </th>
            <th scope="col" className="col-left">
              Left
            </th>
            <th scope="col" className="col-cpu">
              CPU
            </th>
            <th scope="col" className="col-memory">
              Memory
            </th>
            <th scope="col" className="col-pids">
              PIDs
            </th>
            <th scope="col" className="col-network">
              Network
            </th>
          </tr>
        </thead>
        <tbody onKeyDown={onKeyDown}>
          {view.first > 0 ? <Spacer height={view.first * view.rowHeight} /> : null}
          {shown.slice(view.first, view.last).map((s, i) => (
            <SandboxRow
              key={s.id}
              index={view.first + i}
              sandbox={s}
              samples={metrics[s.id] ?? noSamples}
              selected={selected.has(s.id)}
              onToggle={onToggle}
              now={now}
            />
          ))}
          {view.last < shown.length ? <Spacer height={(shown.length - view.last) * view.rowHeight} /> : null}
        </tbody>
      </table>
    </div>
  );
}

/** The height of the rows not drawn, so the scroll bar is the whole list's (one cell: the columns are the header's). */
function Spacer({ height }: { height: number }) {
  return (
    // biome-ignore lint/a11y/noAriaHiddenOnFocusable: an empty row that holds no control; screen readers skip it (the rows' aria-rowindex say where they are)
    <tr aria-hidden="true" className="spacer">
      <td style={{ height }} />
    </tr>
  );
}

interface SandboxRowProps {
  index: number;
  sandbox: SandboxInfo;
  samples: MetricsSample[];
  selected: boolean;
  onToggle(id: string): void;
  /** The time the ages and time left count from: one clock for the table. */
  now: number;
}

// Memoised: a live event re-renders the rows it changed, not all of them (500 rows must stay cheap).
const SandboxRow = memo(function SandboxRow({ index, sandbox: s, samples, selected, onToggle, now }: SandboxRowProps) {
  const last = samples.at(-1);
  const control = s.control?.mode === 'human' ? `human (${s.control.by})` : 'agent';
  const labels = Object.entries(s.metadata)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const network = last ? `↓${formatBytes(last.netRxBytes)} ↑${formatBytes(last.netTxBytes)}` : '–';
  return (
    <tr data-sandbox={s.id} aria-rowindex={index + 2} className={s.control?.mode === 'human' ? 'human' : undefined}>
      <td>
        <input type="checkbox" checked={selected} onChange={() => onToggle(s.id)} aria-label={`Select ${s.id}`} />
      </td>
      <td>
        <a href={`#/sandboxes/${s.id}`}>{s.id}</a>
      </td>
      <td>
        <span className={`state ${s.state}`}>{s.state}</span>
      </td>
      <td className="col-tier">{s.tier}</td>
      <td className="col-template" title={s.template}>
        {s.template}
      </td>
      <td title={s.owner ?? undefined}>{s.owner ?? '–'}</td>
      <td className="col-labels" title={labels}>
        {Object.entries(s.metadata).map(([k, v]) => (
          <span key={k} className="label">
            {k}={v}
          </span>
        ))}
      </td>
      <td className="col-control" title={control}>
        {control}
      </td>
      <td>{formatDuration(now - Date.parse(s.createdAt))}</td>
      <td>{s.expiresAt && !s.endedAt ? formatDuration(Date.parse(s.expiresAt) - now) : '–'}</td>
      <td>
        <Sparkline values={samples.map((m) => m.cpuPercent)} label={`CPU of ${s.id}`} max={100} width={sparklineWidth} />
        <span>{last ? `${last.cpuPercent.toFixed(1)}%` : '–'}</span>
      </td>
      <td>
        <Sparkline values={samples.map((m) => m.memoryBytes)} label={`memory of ${s.id}`} max={last?.memoryLimitBytes ?? undefined} width={sparklineWidth} />
        <span>{last ? formatBytes(last.memoryBytes) : '–'}</span>
      </td>
      <td className="col-pids">{last ? last.pids : '–'}</td>
      <td title={network}>
        {network}
        {last && last.egressRefused > 0 ? <span className="refused-count"> {last.egressRefused} refused</span> : null}
      </td>
    </tr>
  );
});
