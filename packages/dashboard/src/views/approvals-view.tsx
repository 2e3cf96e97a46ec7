import { useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { ApprovalInfo } from '../api/types.js';
import { useApp, useLive, useReloadOnLive } from '../app-context.js';
import { LoadState } from '../components/load-state.js';
import { errorText, formatTime } from '../format.js';
import { useFetch } from './use-fetch.js';

export function ApprovalsView() {
  const { api } = useApp();
  const [showDecided, setShowDecided] = useState(false);
  const approvals = useFetch(
    (signal) =>
      api
        .json<{ approvals: ApprovalInfo[] }>(call('GET /v1/approvals'), { query: { state: showDecided ? 'all' : 'pending' }, signal })
        .then((b) => b.approvals),
    [showDecided],
  );
  useReloadOnLive(approvals.reload);
  useLive('approval', ({ approval }) => {
    // Still loading: the load may have been answered before this approval was filed; ask again.
    if (approvals.loading) approvals.reload();
    approvals.set((current) => {
      if (!current) return current;
      const rest = current.filter((a) => a.id !== approval.id);
      return approval.state === 'pending' || showDecided ? [approval, ...rest] : rest;
    });
  });
  const [permission, setPermission] = useState(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);
  const askPermission = async () => setPermission(await Notification.requestPermission());
  const pending = (approvals.data ?? []).filter((a) => a.state === 'pending');

  return (
    <section aria-labelledby="approvals-title" className="approvals">
      <h1 id="approvals-title">Approvals {pending.length > 0 ? <span className="count">{pending.length} waiting</span> : null}</h1>
      <div className="toolbar">
        <label>
          <input type="checkbox" checked={showDecided} onChange={(e) => setShowDecided(e.target.checked)} /> Show decided requests
        </label>
        {permission === 'default' ? (
          <button type="button" onClick={() => void askPermission()}>
            Notify me of new requests
          </button>
        ) : null}
        {permission === 'granted' ? <span className="hint">Browser notifications on.</span> : null}
      </div>
      <LoadState loaded={approvals}>
        {(list) =>
          list.length === 0 ? (
            <p>No requests waiting.</p>
          ) : (
            <ul className="cards" aria-label="Approval requests">
              {list.map((a) => (
                <ApprovalCard
                  key={a.id}
                  approval={a}
                  onDecided={(updated) => approvals.set((cur) => (cur ?? []).map((x) => (x.id === updated.id ? updated : x)))}
                />
              ))}
            </ul>
          )
        }
      </LoadState>
    </section>
  );
}

interface Risk {
  score: number;
  tags: string[];
  reasons: string[];
}

function riskOf(approval: ApprovalInfo): Risk | null {
  const risk = approval.context.risk as Partial<Risk> | undefined;
  return risk && typeof risk.score === 'number' ? { score: risk.score, tags: risk.tags ?? [], reasons: risk.reasons ?? [] } : null;
}

function ApprovalCard({ approval: a, onDecided }: { approval: ApprovalInfo; onDecided(approval: ApprovalInfo): void }) {
  const { api, notify } = useApp();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const risk = riskOf(a);
  const titleId = `approval-${a.id}`;
  const decide = async (verdict: 'approve' | 'deny') => {
    setBusy(true);
    try {
      const route = verdict === 'approve' ? 'POST /v1/approvals/{id}/approve' : 'POST /v1/approvals/{id}/deny';
      const body = { reason: reason.trim() || (verdict === 'approve' ? 'approved in the dashboard' : 'denied in the dashboard') };
      const updated = await api.json<ApprovalInfo>(call(route, { id: a.id }), { body });
      onDecided(updated);
      notify(`${a.id} ${verdict === 'approve' ? 'approved' : 'denied'}`);
    } catch (e) {
      notify(`Refused — ${errorText(e)}`, 'error');
    }
    setBusy(false);
  };
  return (
    <li className={`card approval ${a.state}`} aria-labelledby={titleId} data-approval={a.id}>
      <h2 id={titleId}>
        {a.action} <span className="resource">{a.resource}</span>
      </h2>
      <p>
        <strong>{a.owner}</strong> asks · {a.reason}
      </p>
      {risk ? (
        <p className={`risk risk-${risk.score >= 70 ? 'high' : risk.score >= 40 ? 'medium' : 'low'}`}>
          Risk {risk.score}
          {risk.tags.length ? ` (${risk.tags.join(', ')})` : ''}
          {risk.reasons.length ? ` — ${risk.reasons.join('; ')}` : ''}
        </p>
      ) : null}
      <details open>
        <summary>The exact request</summary>
        <pre className="request">{JSON.stringify(a.context, null, 2)}</pre>
      </details>
      <p className="hint">
        Asked {formatTime(a.createdAt)} · expires {formatTime(a.expiresAt)} · {a.id}
      </p>
      {a.state === 'pending' ? (
        <form
          className="decide"
          onSubmit={(e) => {
            e.preventDefault();
          }}
        >
          <label htmlFor={`${a.id}-reason`}>Reason</label>
          <input id={`${a.id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1000} placeholder="kept in the audit log" />
          <div className="buttons">
            <button type="button" className="approve" disabled={busy} onClick={() => void decide('approve')}>
              Approve
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => void decide('deny')}>
              Deny
            </button>
          </div>
        </form>
      ) : (
        <p>
          {a.state} {a.decidedByOwner ? `by ${a.decidedByOwner}` : ''} {a.decisionReason ? `: ${a.decisionReason}` : ''}
        </p>
      )}
    </li>
  );
}
