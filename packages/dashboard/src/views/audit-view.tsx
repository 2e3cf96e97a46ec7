import { useEffect, useMemo, useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { AuditEntry, AuditVerification } from '../api/types.js';
import { useApp, useLive } from '../app-context.js';
import { LoadState } from '../components/load-state.js';
import { errorText, formatTime } from '../format.js';
import { AuditTable } from './sandbox-view.js';
import { useFetch } from './use-fetch.js';

const pageSize = 100;
// Typing in a text filter asks the daemon once the typing stops, not at every key.
const typingPauseMs = 300;

interface AuditFilter {
  since: string;
  decision: string;
  outcome: string;
  action: string;
  principal: string;
  sandbox: string;
  q: string;
}

const noFilter: AuditFilter = { since: '1h', decision: '', outcome: '', action: '', principal: '', sandbox: '', q: '' };

/** The filter as GET /v1/audit's query: the daemon filters, so a long log is searched whole, a page at a time. */
function auditQuery(filter: AuditFilter): Record<string, string | undefined> {
  const value = (text: string) => text.trim() || undefined;
  return {
    since: filter.since || undefined,
    decision: filter.decision || undefined,
    outcome: filter.outcome || undefined,
    action: value(filter.action),
    principal: value(filter.principal),
    sandbox: value(filter.sandbox),
    q: value(filter.q),
  };
}

/** Whether a live record belongs on the page: the daemon's filters, applied to one record. */
function matchesLive(r: AuditEntry, filter: AuditFilter): boolean {
  const q = filter.q.trim().toLowerCase();
  const action = filter.action.trim();
  return (
    (!filter.decision || r.decision === filter.decision) &&
    (!filter.outcome || (filter.outcome === 'failed' ? r.outcome !== 'ok' : r.outcome === filter.outcome)) &&
    (!action || (action.endsWith('*') ? r.action.startsWith(action.slice(0, -1)) : r.action === action)) &&
    (!filter.principal.trim() || r.principal === filter.principal.trim()) &&
    (!filter.sandbox.trim() || r.resource === `sandbox:${filter.sandbox.trim()}`) &&
    (!q || `${r.principal} ${r.action} ${r.resource} ${r.outcome} ${JSON.stringify(r.details)}`.toLowerCase().includes(q))
  );
}

export function AuditView() {
  const { api, notify } = useApp();
  // What the inputs show now, and what was last asked of the daemon (text settles after a pause).
  const [draft, setDraft] = useState<AuditFilter>(noFilter);
  const [filter, setFilter] = useState<AuditFilter>(noFilter);
  const [follow, setFollow] = useState(true);
  const [older, setOlder] = useState<{ records: AuditEntry[]; done: boolean; busy: boolean }>({ records: [], done: false, busy: false });
  useEffect(() => {
    const timer = setTimeout(() => setFilter(draft), typingPauseMs);
    return () => clearTimeout(timer);
  }, [draft]);
  const query = useMemo(() => auditQuery(filter), [filter]);
  const asked = JSON.stringify(query);
  const records = useFetch(
    (signal) =>
      api.json<{ records: AuditEntry[] }>(call('GET /v1/audit'), { query: { ...query, order: 'desc', limit: pageSize }, signal }).then((b) => b.records),
    [asked],
  );
  // Another question starts the older pages again (a live record added to the first page does not).
  // biome-ignore lint/correctness/useExhaustiveDependencies: `asked` is the query the pages answer
  useEffect(() => setOlder({ records: [], done: false, busy: false }), [asked]);
  useLive('audit', ({ record }) => {
    if (!follow || !matchesLive(record, filter)) return;
    records.set((current) => (current && !current.some((r) => r.seq === record.seq) ? [record, ...current] : current));
  });
  const shown = useMemo(() => [...(records.data ?? []), ...older.records], [records.data, older.records]);
  const firstPageFull = (records.data?.length ?? 0) >= pageSize;

  const loadOlder = async () => {
    const before = shown.at(-1)?.seq;
    if (before === undefined) return;
    setOlder((o) => ({ ...o, busy: true }));
    try {
      const page = await api.json<{ records: AuditEntry[] }>(call('GET /v1/audit'), { query: { ...query, order: 'desc', limit: pageSize, before } });
      setOlder((o) => ({ records: [...o.records, ...page.records], done: page.records.length < pageSize, busy: false }));
    } catch (e) {
      setOlder((o) => ({ ...o, busy: false }));
      notify(`Could not read older records — ${errorText(e)}`, 'error');
    }
  };

  // Every record the filter matches, asked of the daemon (up to its 10,000 a read), not only the pages shown.
  const exportJson = async () => {
    let all: AuditEntry[];
    try {
      all = (await api.json<{ records: AuditEntry[] }>(call('GET /v1/audit'), { query: { ...query, limit: 10_000 } })).records;
    } catch (e) {
      notify(`Export failed — ${errorText(e)}`, 'error');
      return;
    }
    const blob = new Blob([all.map((r) => JSON.stringify(r)).join('\n') + '\n'], { type: 'application/x-ndjson' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `paddock-audit-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`;
    link.click();
    URL.revokeObjectURL(url);
  };

  const edit = (field: keyof AuditFilter) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [field]: e.target.value }));
  // A choice from a list applies at once; only typed text waits for the pause.
  const choose = (field: keyof AuditFilter) => (e: { target: { value: string } }) => {
    const next = { ...draft, [field]: e.target.value };
    setDraft(next);
    setFilter(next);
  };

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <VerifyPanel />
      <form className="filters" aria-label="Filter audit records" onSubmit={(e) => e.preventDefault()}>
        <label>
          Since
          <select value={draft.since} onChange={choose('since')}>
            <option value="15m">15 minutes</option>
            <option value="1h">1 hour</option>
            <option value="24h">24 hours</option>
            <option value="7d">7 days</option>
            <option value="">the beginning</option>
          </select>
        </label>
        <label>
          Decision
          <select value={draft.decision} onChange={choose('decision')}>
            <option value="">any</option>
            <option value="allow">allow</option>
            <option value="ask">ask</option>
            <option value="deny">deny</option>
          </select>
        </label>
        <label>
          Outcome
          <select value={draft.outcome} onChange={choose('outcome')}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="failed">failed (not ok)</option>
          </select>
        </label>
        <label>
          Action
          <input type="search" value={draft.action} onChange={edit('action')} placeholder="sandbox.exec, sandbox.*" />
        </label>
        <label>
          Principal
          <input type="search" value={draft.principal} onChange={edit('principal')} placeholder="token id" />
        </label>
        <label>
          Sandbox
          <input type="search" value={draft.sandbox} onChange={edit('sandbox')} placeholder="sandbox id" />
        </label>
        <label>
          Search
          <input type="search" value={draft.q} onChange={edit('q')} placeholder="any text in a record" />
        </label>
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow live
        </label>
        <button type="button" onClick={() => void exportJson()} disabled={shown.length === 0}>
          Export as NDJSON
        </button>
      </form>
      <LoadState loaded={records}>
        {() => (
          <>
            <p className="hint" aria-live="polite">
              {shown.length === 0 ? 'No record matches.' : `${shown.length} matching record${shown.length === 1 ? '' : 's'}, newest first.`}
            </p>
            <AuditTable records={shown} />
            {firstPageFull && !older.done ? (
              <button type="button" onClick={() => void loadOlder()} disabled={older.busy}>
                {older.busy ? 'Loading…' : `Older records (${pageSize} more)`}
              </button>
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
