import { useState } from 'react';
import { call } from '../api/dashboard-routes.js';
import type { ProcessInfo } from '../api/types.js';
import { useApp } from '../app-context.js';
import { decodeBase64, errorText, formatTime } from '../format.js';
import { useFetch } from './use-fetch.js';

const maxShownChars = 200_000;

export function ProcessesPanel({ id }: { id: string }) {
  const { api } = useApp();
  const processes = useFetch(
    (signal) => api.json<{ processes: ProcessInfo[] }>(call('GET /v1/sandboxes/{id}/processes', { id }), { signal }).then((b) => b.processes),
    [id],
  );
  const [open, setOpen] = useState<number | null>(null);
  return (
    <section id="processes" tabIndex={-1} aria-labelledby="processes-title">
      <h2 id="processes-title">
        Processes{' '}
        <button type="button" className="link" onClick={processes.reload}>
          Refresh
        </button>
      </h2>
      {processes.error ? (
        <p role="alert" className="error refused">
          {processes.error}
        </p>
      ) : null}
      {processes.data && processes.data.length === 0 ? <p>No processes started through the API.</p> : null}
      {processes.data && processes.data.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">PID</th>
              <th scope="col">Command</th>
              <th scope="col">User</th>
              <th scope="col">Started</th>
              <th scope="col">State</th>
              <th scope="col">Output</th>
            </tr>
          </thead>
          <tbody>
            {processes.data.map((p) => (
              <tr key={p.pid}>
                <td>{p.pid}</td>
                <td>
                  <code>{p.cmd.join(' ')}</code>
                </td>
                <td>{p.user}</td>
                <td>{formatTime(p.startedAt)}</td>
                <td>{p.state === 'running' ? 'running' : `exited ${p.exitCode ?? p.signal ?? ''}${p.oomKilled ? ' (out of memory)' : ''}`}</td>
                <td>
                  <button type="button" aria-expanded={open === p.pid} onClick={() => setOpen(open === p.pid ? null : p.pid)}>
                    {open === p.pid ? 'Hide' : 'Show'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {open !== null ? <ProcessOutput id={id} pid={open} /> : null}
    </section>
  );
}

/** The output the daemon still keeps for a process (NDJSON events, base64 data). */
function ProcessOutput({ id, pid }: { id: string; pid: number }) {
  const { api } = useApp();
  const output = useFetch(
    async (signal) => {
      const res = await api.response(call('GET /v1/sandboxes/{id}/processes/{pid}/output', { id, pid }), { signal });
      let text = '';
      for (const line of (await res.text()).split('\n')) {
        if (!line) continue;
        try {
          const event = JSON.parse(line) as { type: string; data?: string; bytes?: number; stream?: string };
          if ((event.type === 'stdout' || event.type === 'stderr') && event.data) text += decodeBase64(event.data);
          if (event.type === 'dropped') text += `[${event.bytes} bytes of ${event.stream} no longer kept]\n`;
        } catch (e) {
          text += `[${errorText(e)}]\n`;
        }
      }
      return text.length > maxShownChars ? `…${text.slice(-maxShownChars)}` : text;
    },
    [id, pid],
  );
  return (
    <figure>
      <figcaption>Output of process {pid}</figcaption>
      {output.error ? <p className="error">{output.error}</p> : <pre className="output">{output.data ?? 'Loading…'}</pre>}
    </figure>
  );
}
