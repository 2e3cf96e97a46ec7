import { useMemo, useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { AuditEntry, AuditVerification } from '../api/types.js';
import { useApp, useLive } from '../app-context.js';
import { LoadState } from '../components/load-state.js';
import { errorText, formatTime } from '../format.js';
import { AuditTable } from './sandbox-view.js';
import { useFetch } from './use-fetch.js';

const pageSize = 500;

export function AuditView() {
  const { api } = useApp();
  const [since, setSince] = useState('1h');
  const [search, setSearch] = useState('');
  const [decision, setDecision] = useState('');
  const [follow, setFollow] = useState(true);
  const records = useFetch(
    (signal) =>
      api.json<{ records: AuditEntry[] }>(call('GET /v1/audit'), { query: { since, limit: 10_000 }, signal }).then((b) => b.records.slice().reverse()),
    [since],
  );
  useLive('audit', ({ record }) => {
    if (follow) records.set((current) => (current && !current.some((r) => r.seq === record.seq) ? [record, ...current] : current));
  });
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (records.data ?? []).filter(
      (r) =>
        (!decision || r.decision === decision || (decision === 'failed' && r.outcome !== 'ok')) &&
        (!needle || `${r.principal} ${r.action} ${r.resource} ${r.outcome} ${JSON.stringify(r.details)}`.toLowerCase().includes(needle)),
    );
  }, [records.data, search, decision]);

  const exportJson = () => {
    const blob = new Blob([shown.map((r) => JSON.stringify(r)).join('\n') + '\n'], { type: 'application/x-ndjson' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `paddock-audit-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`;
    link.click();
    URL.revokeObjectURL(url);
  };

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <VerifyPanel />
      <form className="filters" aria-label="Filter audit records" onSubmit={(e) => e.preventDefault()}>
        <label>
          Since
          <select value={since} onChange={(e) => setSince(e.target.value)}>
            <option value="15m">15 minutes</option>
            <option value="1h">1 hour</option>
            <option value="24h">24 hours</option>
            <option value="7d">7 days</option>
          </select>
        </label>
        <label>
          Decision
          <select value={decision} onChange={(e) => setDecision(e.target.value)}>
            <option value="">any</option>
            <option value="allow">allow</option>
            <option value="ask">ask</option>
            <option value="deny">deny</option>
            <option value="failed">failed (outcome not ok)</option>
          </select>
        </label>
        <label>
          Search
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="principal, action, resource…" />
        </label>
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow live
        </label>
        <button type="button" onClick={exportJson} disabled={shown.length === 0}>
          Export {shown.length} as NDJSON
        </button>
      </form>
      <LoadState loaded={records}>
        {() => (
          <>
            <AuditTable records={shown.slice(0, pageSize)} />
            {shown.length > pageSize ? (
              <p className="hint">
                Showing the newest {pageSize} of {shown.length}; export has them all.
              </p>
            ) : null}
          </>
        )}
      </LoadState>
    </section>
  );
}

function VerifyPanel() {
  const { api } = useApp();
  const [result, setResult] = useState<AuditVerification | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await api.json<AuditVerification>(call('POST /v1/audit/verify'), { body: {}, timeoutMs: 300_000 }));
    } catch (e) {
      setResult(null);
      setError(errorText(e));
    }
    setBusy(false);
  };
  return (
    <section className="verify" aria-labelledby="verify-title">
      <h2 id="verify-title">Verify the chain</h2>
      <button type="button" onClick={() => void verify()} disabled={busy}>
        {busy ? 'Verifying…' : 'Verify'}
      </button>
      <div aria-live="polite">
        {error ? (
          <p role="alert" className="error refused">
            {error}
          </p>
        ) : null}
        {result ? (
          <div className={result.ok ? 'verified ok' : 'verified bad'} data-verified={String(result.ok)}>
            <p>
              <strong>{result.ok ? 'Chain intact' : 'Chain broken'}</strong>: {result.records} records and {result.heads} signed heads checked
              {result.head ? `, against the head signed ${formatTime(result.head.signedAt)} at record ${result.head.seq}` : ''}.
            </p>
            <ul>
              {result.anchors.map((a) => (
                <li key={`${a.source}-${a.location}`}>
                  {a.checked} anchors from {a.source} ({a.location}){a.newest ? `, newest #${a.newest.anchor} at record ${a.newest.seq}` : ''}:{' '}
                  {a.reached ? 'reached by the chain' : 'not reached'}
                </li>
              ))}
              {result.problems.map((p) => (
                <li key={`${p.seq}-${p.problem}`} className="error">
                  {p.problem}
                  {p.seq !== null ? ` at record ${p.seq}` : ''}: {p.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </div>
    </section>
  );
}
