import { type FormEvent, useMemo, useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { PolicyStatus, PolicyTestResult } from '../api/types.js';
import { useApp } from '../app-context.js';
import { LoadState } from '../components/load-state.js';
import { errorText, formatTime } from '../format.js';
import { useFetch } from './use-fetch.js';

export function PoliciesView() {
  const { api } = useApp();
  const status = useFetch((signal) => api.json<PolicyStatus>(call('GET /v1/policies'), { signal }));
  return (
    <section aria-labelledby="policies-title">
      <h1 id="policies-title">Policies</h1>
      <LoadState loaded={status}>{(s) => <PolicyFiles status={s} />}</LoadState>
      <DecisionTester />
    </section>
  );
}

function PolicyFiles({ status }: { status: PolicyStatus }) {
  // A policy's id is file:line; group them by file, with each file's problems beside it.
  const files = useMemo(() => {
    const byFile = new Map<string, { policies: PolicyStatus['policies']; problems: PolicyStatus['problems'] }>();
    const entry = (file: string) => {
      let found = byFile.get(file);
      if (!found) {
        found = { policies: [], problems: [] };
        byFile.set(file, found);
      }
      return found;
    };
    for (const p of status.policies) entry(p.id.replace(/:\d+$/, '')).policies.push(p);
    for (const problem of status.problems) entry(problem.file).problems.push(problem);
    return [...byFile.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [status]);
  return (
    <>
      <p>
        From <code>{status.dir}</code>, loaded {formatTime(status.loadedAt)}. {status.policies.length} policies
        {status.problems.length ? `; the last reload had ${status.problems.length} problems (the last good set stays in force)` : ''}.
      </p>
      {files.map(([file, { policies, problems }]) => (
        <details key={file} open={problems.length > 0}>
          <summary>
            {file} — {policies.length} policies{problems.length ? `, ${problems.length} problems` : ''}
          </summary>
          {problems.length ? (
            <ul className="problems">
              {problems.map((p) => (
                <li key={`${p.line}-${p.message}`} className="error">
                  line {p.line}: {p.message}
                </li>
              ))}
            </ul>
          ) : null}
          <ul>
            {policies.map((p) => (
              <li key={p.id}>
                <span className={`effect ${p.effect}`}>{p.effect}</span> {p.name}
              </li>
            ))}
          </ul>
        </details>
      ))}
    </>
  );
}

function DecisionTester() {
  const { api, session } = useApp();
  const [principal, setPrincipal] = useState('agent');
  const [action, setAction] = useState('sandbox.exec');
  const [resource, setResource] = useState('');
  const [shell, setShell] = useState('');
  const [context, setContext] = useState('{}');
  const [result, setResult] = useState<PolicyTestResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(context || '{}') as Record<string, unknown>;
    } catch {
      setError('Context is not valid JSON.');
      return;
    }
    try {
      const body = { principal, action, resource: resource || undefined, shell: shell || undefined, context: parsed };
      setResult(await api.json<PolicyTestResult>(call('POST /v1/policies/test'), { body }));
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section aria-labelledby="tester-title" className="tester">
      <h2 id="tester-title">Test a decision</h2>
      <form onSubmit={(e) => void submit(e)} className="grid-form">
        <label>
          Principal (role or role:tenant)
          <input value={principal} onChange={(e) => setPrincipal(e.target.value)} required placeholder={`agent:${session.principal.tenantId}`} />
        </label>
        <label>
          Action
          <input value={action} onChange={(e) => setAction(e.target.value)} required />
        </label>
        <label>
          Resource
          <input value={resource} onChange={(e) => setResource(e.target.value)} placeholder="sandbox:sb-…, template:base" />
        </label>
        <label>
          Command (shell)
          <input value={shell} onChange={(e) => setShell(e.target.value)} placeholder="rm -rf /work" />
        </label>
        <label className="wide">
          Context (JSON)
          <textarea value={context} onChange={(e) => setContext(e.target.value)} rows={3} spellCheck={false} />
        </label>
        <button type="submit">Test</button>
      </form>
      <div aria-live="polite">
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        {result ? (
          <div className={`decision ${result.decision}`}>
            <p>
              <strong>{result.decision}</strong>
              {result.reason ? ` — ${result.reason}` : ''}
            </p>
            <p>Decided by: {result.policies.length ? result.policies.join(', ') : 'no policy (default)'}</p>
            {result.risk ? (
              <p>
                Risk {result.risk.score} {result.risk.tags.length ? `(${result.risk.tags.join(', ')})` : ''}
              </p>
            ) : null}
          </div>
        ) : null}
      </div>
    </section>
  );
}
