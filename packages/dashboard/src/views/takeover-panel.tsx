import { lazy, Suspense, useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { HandbackResponse, Recording, SandboxInfo, TakeoverResponse } from '../api/types.js';
import { useApp } from '../app-context.js';
import { errorText, formatBytes, formatTime } from '../format.js';
import { FramesViewer } from './frames-viewer.js';
import { useFetch } from './use-fetch.js';

// The terminal (xterm.js, most of the app's code) loads when a terminal is first shown, not with the list.
const TerminalView = lazy(() => import('../terminal/terminal-view.js').then((m) => ({ default: m.TerminalView })));
const terminalLoading = <p className="loading">Loading the terminal…</p>;

/**
 * Take over / Hand back. The taker gets a writable terminal; anyone else who
 * may read the sandbox can watch read-only while a person holds it.
 */
export function TakeoverPanel({ sandbox, onChanged }: { sandbox: SandboxInfo; onChanged(): void }) {
  const { api, session, notify } = useApp();
  const [busy, setBusy] = useState(false);
  const [watching, setWatching] = useState(false);
  const [framesOf, setFramesOf] = useState<string>();
  const recordings = useFetch(
    (signal) => api.json<{ recordings: Recording[] }>(call('GET /v1/sandboxes/{id}/recordings', { id: sandbox.id }), { signal }).then((b) => b.recordings),
    [sandbox.id, sandbox.control?.mode],
  );
  const control = sandbox.control;
  const mine = control?.mode === 'human' && control.by === session.principal.id;
  const args: [{ id: string }] = [{ id: sandbox.id }];

  const takeOver = async () => {
    setBusy(true);
    try {
      await api.json<TakeoverResponse>(call('POST /v1/sandboxes/{id}/takeover', ...args), { body: { cols: 100, rows: 24 } });
      notify(`You control ${sandbox.id}; the agent sees it as taken over.`);
    } catch (e) {
      notify(`Refused — ${errorText(e)}`, 'error');
    }
    setBusy(false);
    onChanged();
  };
  const handBack = async () => {
    setBusy(true);
    try {
      const result = await api.json<HandbackResponse>(call('POST /v1/sandboxes/{id}/handback', ...args));
      notify(`Handed back to the agent; session recorded (${formatBytes(result.recording.bytes)}, sha256 ${result.recording.sha256.slice(0, 12)}…).`);
    } catch (e) {
      notify(`Refused — ${errorText(e)}`, 'error');
    }
    setBusy(false);
    recordings.reload();
    onChanged();
  };

  const attachPath = (pid: number, view: boolean) =>
    `${api.url(call('GET /v1/sandboxes/{id}/processes/{pid}/attach', { id: sandbox.id, pid }), view ? { mode: 'view' } : undefined)}`;

  return (
    <section id="terminal" tabIndex={-1} aria-labelledby="terminal-title">
      <h2 id="terminal-title">Terminal</h2>
      {sandbox.state !== 'running' ? <p>The sandbox is not running.</p> : null}
      {sandbox.state === 'running' && control?.mode !== 'human' ? (
        <>
          <p>The agent controls this sandbox. Taking over opens a shell in it, marks it as human-controlled, and records the session.</p>
          <button type="button" onClick={() => void takeOver()} disabled={busy}>
            Take over
          </button>
        </>
      ) : null}
      {control?.mode === 'human' && mine ? (
        <>
          <button type="button" onClick={() => void handBack()} disabled={busy}>
            Hand back
          </button>
          <Suspense fallback={terminalLoading}>
            <TerminalView path={attachPath(control.pid, false)} readOnly={false} label={`Terminal of ${sandbox.id}`} />
          </Suspense>
        </>
      ) : null}
      {control?.mode === 'human' && !mine ? (
        <>
          <p>
            {control.by} has taken this sandbox over since {formatTime(control.since)}.
          </p>
          <button type="button" aria-pressed={watching} onClick={() => setWatching((w) => !w)}>
            {watching ? 'Stop watching' : 'Watch read-only'}
          </button>
          {watching ? (
            <Suspense fallback={terminalLoading}>
              <TerminalView path={attachPath(control.pid, true)} readOnly label={`Terminal of ${sandbox.id}, read-only`} />
            </Suspense>
          ) : null}
        </>
      ) : null}
      {recordings.data && recordings.data.length > 0 ? (
        <table>
          <caption>Recorded sessions</caption>
          <thead>
            <tr>
              <th scope="col">By</th>
              <th scope="col">Started</th>
              <th scope="col">Ended</th>
              <th scope="col">Size</th>
              <th scope="col">Cast (SHA-256)</th>
              <th scope="col">Screen</th>
            </tr>
          </thead>
          <tbody>
            {recordings.data.map((r) => (
              <tr key={r.sessionId}>
                <td>{r.by}</td>
                <td>{formatTime(r.startedAt)}</td>
                <td>{r.endedAt ? formatTime(r.endedAt) : 'recording…'}</td>
                <td>{formatBytes(r.bytes)}</td>
                <td>
                  <a
                    href={api.url(call('GET /v1/sandboxes/{id}/recordings/{sessionId}', { id: sandbox.id, sessionId: r.sessionId }))}
                    download={`${r.sessionId}.cast`}
                  >
                    {r.sha256 ? `download (${r.sha256.slice(0, 16)}…)` : 'download so far'}
                  </a>
                </td>
                <td>
                  {r.frames ? (
                    <button
                      type="button"
                      aria-pressed={framesOf === r.sessionId}
                      onClick={() => setFramesOf((s) => (s === r.sessionId ? undefined : r.sessionId))}
                    >
                      {r.frames} frames
                    </button>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {framesOf ? <FramesViewer sandboxId={sandbox.id} sessionId={framesOf} /> : null}
    </section>
  );
}
