import { type FormEvent, useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { AuditEntry, CheckpointInfo, MetricsSample, SandboxInfo, SandboxMetrics, SandboxNetworkInfo } from '../api/types.js';
import { useApp, useLive } from '../app-context.js';
import { LineChart } from '../charts/line-chart.js';
import { LoadState } from '../components/load-state.js';
import { errorText, formatBytes, formatDuration, formatTime } from '../format.js';
import { navigate } from '../router.js';
import { DesktopPanel } from './desktop-panel.js';
import { FileBrowser } from './file-browser.js';
import { PortsPanel } from './ports-panel.js';
import { ProcessesPanel } from './processes-panel.js';
import { runSandboxAction, type SandboxAction } from './sandbox-actions.js';
import { TakeoverPanel } from './takeover-panel.js';
import { useFetch } from './use-fetch.js';

const keepSamples = 150;

export function SandboxView({ id }: { id: string }) {
  const { api } = useApp();
  const sandbox = useFetch((signal) => api.json<SandboxInfo>(call('GET /v1/sandboxes/{id}', { id }), { signal }), [id]);
  useLive('sandbox', (event) => {
    if (event.sandbox.id === id) sandbox.set(() => event.sandbox);
  });
  return (
    <section aria-labelledby="sandbox-title">
      <p>
        <a href="#/sandboxes">← Sandboxes</a>
      </p>
      <h1 id="sandbox-title">{id}</h1>
      <LoadState loaded={sandbox}>{(s) => <SandboxDetail sandbox={s} onChanged={sandbox.reload} />}</LoadState>
    </section>
  );
}

function SandboxDetail({ sandbox, onChanged }: { sandbox: SandboxInfo; onChanged(): void }) {
  const running = sandbox.state === 'running';
  return (
    <>
      <SandboxSummary sandbox={sandbox} />
      <SandboxToolbar sandbox={sandbox} onChanged={onChanged} />
      <nav aria-label="Sections of this sandbox" className="section-links">
        {sections.map(([target, label]) => (
          <button key={target} type="button" className="link" onClick={() => jumpTo(target)}>
            {label}
          </button>
        ))}
      </nav>
      <TakeoverPanel sandbox={sandbox} onChanged={onChanged} />
      {running && sandbox.template === 'desktop' ? <DesktopPanel sandbox={sandbox} /> : null}
      <MetricsPanel id={sandbox.id} />
      {running ? <ProcessesPanel id={sandbox.id} /> : null}
      {running ? <FileBrowser id={sandbox.id} /> : null}
      <NetworkPanel id={sandbox.id} />
      {running ? <PortsPanel id={sandbox.id} /> : null}
      <SandboxAudit id={sandbox.id} />
    </>
  );
}

const sections = [
  ['terminal', 'Terminal'],
  ['metrics', 'Metrics'],
  ['processes', 'Processes'],
  ['files', 'Files'],
  ['network', 'Network'],
  ['ports', 'Ports'],
  ['sandbox-audit', 'Audit'],
] as const;

/** In-page jumps without touching the hash, which holds the route. */
function jumpTo(section: string): void {
  const target = document.getElementById(section);
  target?.scrollIntoView();
  target?.focus();
}

function SandboxSummary({ sandbox: s }: { sandbox: SandboxInfo }) {
  const now = Date.now();
  return (
    <dl className="summary">
      <dt>State</dt>
      <dd>
        <span className={`state ${s.state}`}>{s.state}</span>
        {s.endReason ? ` (${s.endReason})` : ''}
      </dd>
      <dt>Control</dt>
      <dd className={s.control?.mode === 'human' ? 'human' : undefined}>
        {s.control?.mode === 'human' ? `taken over by ${s.control.by} since ${formatTime(s.control.since)}` : 'agent'}
      </dd>
      <dt>Owner</dt>
      <dd>{s.owner ?? '–'}</dd>
      <dt>Tier</dt>
      <dd>{s.tier}</dd>
      <dt>Template</dt>
      <dd>{s.template}</dd>
      <dt>Limits</dt>
      <dd>
        {s.limits.cpus} CPU, {s.limits.memoryMiB} MiB memory, {s.limits.diskMiB} MiB disk ({s.writableLayer}), {s.limits.pids} pids
      </dd>
      <dt>Labels</dt>
      <dd>
        {Object.entries(s.metadata)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ') || '–'}
      </dd>
      <dt>Created</dt>
      <dd>
        {formatTime(s.createdAt)} ({formatDuration(now - Date.parse(s.createdAt))} ago)
      </dd>
      <dt>Time left</dt>
      <dd>{s.expiresAt && !s.endedAt ? `${formatDuration(Date.parse(s.expiresAt) - now)} (then ${s.onTimeout})` : '–'}</dd>
    </dl>
  );
}

function SandboxToolbar({ sandbox, onChanged }: { sandbox: SandboxInfo; onChanged(): void }) {
  const { api, notify } = useApp();
  const [snapshotName, setSnapshotName] = useState('');
  const [checkpoint, setCheckpoint] = useState('');
  const checkpoints = useFetch(
    (signal) =>
      sandbox.endedAt
        ? Promise.resolve([])
        : api.json<{ checkpoints: CheckpointInfo[] }>(call('GET /v1/sandboxes/{id}/checkpoints', { id: sandbox.id }), { signal }).then((b) => b.checkpoints),
    [sandbox.id, sandbox.endedAt],
  );
  const run = async (what: () => Promise<string>) => {
    try {
      notify(await what());
    } catch (e) {
      notify(`Refused — ${errorText(e)}`, 'error');
    }
    onChanged();
  };
  const action = (a: SandboxAction) => () => void run(() => runSandboxAction(api, sandbox, a));
  const args: [{ id: string }] = [{ id: sandbox.id }];
  const fork = () =>
    void run(async () => {
      const forked = await api.json<SandboxInfo>(call('POST /v1/sandboxes/{id}/fork', ...args), { body: {} });
      navigate(`#/sandboxes/${forked.id}`);
      return `forked as ${forked.id}`;
    });
  const snapshot = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api.response(call('POST /v1/sandboxes/{id}/snapshots', ...args), { body: { name: snapshotName }, timeoutMs: 300_000 });
      return `snapshot saved as template ${snapshotName}`;
    });
  };
  const takeCheckpoint = () =>
    void run(async () => {
      const cp = await api.json<CheckpointInfo>(call('POST /v1/sandboxes/{id}/checkpoints', ...args), { timeoutMs: 300_000 });
      checkpoints.reload();
      return `checkpoint ${cp.id} taken`;
    });
  const rollback = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api.response(call('POST /v1/sandboxes/{id}/rollback', ...args), { body: { checkpoint }, timeoutMs: 300_000 });
      return `rolled back to ${checkpoint}`;
    });
  };
  if (sandbox.endedAt) return null;
  return (
    <div className="toolbar" role="toolbar" aria-label="Sandbox actions">
      {sandbox.state === 'running' ? (
        <button type="button" onClick={action('pause')}>
          Pause
        </button>
      ) : (
        <button type="button" onClick={action('resume')}>
          Resume
        </button>
      )}
      <button type="button" onClick={action('extend')}>
        Extend 10 min
      </button>
      <button type="button" onClick={fork}>
        Fork
      </button>
      <button type="button" onClick={takeCheckpoint}>
        Checkpoint
      </button>
      <form onSubmit={rollback} className="inline">
        <label>
          Checkpoint
          <select value={checkpoint} onChange={(e) => setCheckpoint(e.target.value)} required>
            <option value="">choose…</option>
            {(checkpoints.data ?? []).map((cp) => (
              <option key={cp.id} value={cp.id}>
                {cp.id} ({formatTime(cp.createdAt)})
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Roll back</button>
      </form>
      <form onSubmit={snapshot} className="inline">
        <label>
          Template name
          <input value={snapshotName} onChange={(e) => setSnapshotName(e.target.value)} required pattern="[a-z0-9][a-z0-9._\-]{0,62}" />
        </label>
        <button type="submit">Snapshot</button>
      </form>
      <button type="button" className="danger" onClick={action('kill')}>
        Kill
      </button>
    </div>
  );
}

function MetricsPanel({ id }: { id: string }) {
  const { api } = useApp();
  const metrics = useFetch((signal) => api.json<SandboxMetrics>(call('GET /v1/sandboxes/{id}/metrics', { id }), { signal }).then((m) => m.history), [id]);
  useLive('metrics', ({ samples }) => {
    const sample = samples[id];
    if (sample) metrics.set((current) => [...(current ?? []), sample].slice(-keepSamples));
  });
  const history: MetricsSample[] = metrics.data ?? [];
  const last = history.at(-1);
  return (
    <section id="metrics" tabIndex={-1} aria-labelledby="metrics-title">
      <h2 id="metrics-title">Metrics</h2>
      {metrics.error && !metrics.data ? <p className="hint">{metrics.error}</p> : null}
      {last ? (
        <p>
          CPU {last.cpuPercent.toFixed(1)}% · memory {formatBytes(last.memoryBytes)}
          {last.memoryLimitBytes ? ` of ${formatBytes(last.memoryLimitBytes)}` : ''} · {last.pids} pids · network ↓{formatBytes(last.netRxBytes)} ↑
          {formatBytes(last.netTxBytes)} · egress {last.egressAllowed} allowed, {last.egressRefused} refused
        </p>
      ) : null}
      {history.length > 1 ? (
        <div className="chart-grid">
          <LineChart title="CPU" unit="%" series={[{ name: 'CPU', className: 'chart-a', values: history.map((m) => m.cpuPercent) }]} />
          <LineChart title="Memory (MiB)" series={[{ name: 'memory', className: 'chart-b', values: history.map((m) => m.memoryBytes / 1048576) }]} />
          <LineChart title="Processes" series={[{ name: 'pids', className: 'chart-c', values: history.map((m) => m.pids) }]} />
          <LineChart
            title="Network (KiB)"
            series={[
              { name: 'received', className: 'chart-a', values: history.map((m) => m.netRxBytes / 1024) },
              { name: 'sent', className: 'chart-d', values: history.map((m) => m.netTxBytes / 1024) },
            ]}
          />
        </div>
      ) : null}
    </section>
  );
}

function NetworkPanel({ id }: { id: string }) {
  const { api } = useApp();
  const network = useFetch((signal) => api.json<SandboxNetworkInfo>(call('GET /v1/sandboxes/{id}/network', { id }), { signal }), [id]);
  const [egress, setEgress] = useState(-1);
  // The connection log is re-read when the sampler reports new egress for this sandbox, not on a timer.
  useLive('metrics', ({ samples }) => {
    const sample = samples[id];
    if (!sample) return;
    const total = sample.egressAllowed + sample.egressRefused;
    if (total !== egress) {
      setEgress(total);
      network.reload();
    }
  });
  return (
    <section id="network" tabIndex={-1} aria-labelledby="network-title">
      <h2 id="network-title">Network</h2>
      <LoadState loaded={network}>
        {(n) => (
          <>
            <dl className="summary">
              <dt>Egress</dt>
              <dd>{n.mode}</dd>
              <dt>Allowed hosts</dt>
              <dd>{n.allow.join(', ') || '–'}</dd>
              <dt>Denied hosts</dt>
              <dd>{n.deny.join(', ') || '–'}</dd>
              <dt>Secrets bound</dt>
              <dd>{n.secrets.join(', ') || '–'}</dd>
            </dl>
            <table>
              <caption>Connections, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Host</th>
                  <th scope="col">Via</th>
                  <th scope="col">Decision</th>
                  <th scope="col">Bytes out / in</th>
                </tr>
              </thead>
              <tbody>
                {n.connections
                  .slice()
                  .reverse()
                  .map((c, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: connections have no id; two may share a time and host
                    <tr key={`${c.at}-${i}`} className={c.decision === 'deny' ? 'denied' : undefined}>
                      <td>{formatTime(c.at)}</td>
                      <td>
                        {c.host}
                        {c.port ? `:${c.port}` : ''}
                      </td>
                      <td>{c.via}</td>
                      <td>{c.decision === 'deny' ? `refused: ${c.reason ?? ''}` : 'allowed'}</td>
                      <td>
                        {formatBytes(c.bytesOut)} / {formatBytes(c.bytesIn)}
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </>
        )}
      </LoadState>
    </section>
  );
}

function SandboxAudit({ id }: { id: string }) {
  const { api } = useApp();
  const records = useFetch(
    (signal) =>
      api
        // The daemon picks this sandbox's records out of the whole log, newest first.
        .json<{ records: AuditEntry[] }>(call('GET /v1/audit'), { query: { sandbox: id, order: 'desc', limit: 500 }, signal })
        .then((b) => b.records),
    [id],
  );
  useLive('audit', ({ record }) => {
    if (record.resource === `sandbox:${id}`) records.set((current) => [record, ...(current ?? [])]);
  });
  return (
    <section id="sandbox-audit" tabIndex={-1} aria-labelledby="sandbox-audit-title">
      <h2 id="sandbox-audit-title">Audit records</h2>
      <LoadState loaded={records}>{(list) => <AuditTable records={list} />}</LoadState>
    </section>
  );
}

export function AuditTable({ records }: { records: AuditEntry[] }) {
  if (records.length === 0) return <p>No records.</p>;
  return (
    <table className="audit">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Time</th>
          <th scope="col">Principal</th>
          <th scope="col">Action</th>
          <th scope="col">Resource</th>
          <th scope="col">Decision</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {records.map((r) => (
          <tr key={r.seq} className={r.decision === 'deny' || r.outcome !== 'ok' ? 'denied' : undefined}>
            <td>{r.seq}</td>
            <td>{formatTime(r.ts)}</td>
            <td>{r.principal}</td>
            <td>{r.action}</td>
            <td>{r.resource}</td>
            <td>{r.decision}</td>
            <td>{r.outcome}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
