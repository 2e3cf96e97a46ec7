import { call } from '../api/dashboard-routes.js';
import { useApp } from '../app-context.js';
import { LoadState } from '../components/load-state.js';
import { formatTime } from '../format.js';
import { useFetch } from './use-fetch.js';

interface PortList {
  ports: { port: number; address: string; hostUrl: string; pathUrl: string }[];
  links: { id: string; port: number; expiresAt: string; createdBy: string }[];
}

export function PortsPanel({ id }: { id: string }) {
  const { api } = useApp();
  const ports = useFetch((signal) => api.json<PortList>(call('GET /v1/sandboxes/{id}/ports', { id }), { signal }), [id]);
  return (
    <section id="ports" tabIndex={-1} aria-labelledby="ports-title">
      <h2 id="ports-title">
        Ports{' '}
        <button type="button" className="link" onClick={ports.reload}>
          Refresh
        </button>
      </h2>
      <LoadState loaded={ports}>
        {(list) => (
          <>
            {list.ports.length === 0 ? <p>Nothing listens on a TCP port.</p> : null}
            <ul>
              {list.ports.map((p) => (
                <li key={`${p.address}:${p.port}`}>
                  {p.port} on {p.address}:{' '}
                  <a href={p.hostUrl} target="_blank" rel="noreferrer noopener">
                    preview
                  </a>
                </li>
              ))}
            </ul>
            {list.links.length > 0 ? (
              <ul aria-label="Public links">
                {list.links.map((l) => (
                  <li key={l.id}>
                    link {l.id} to port {l.port}, by {l.createdBy}, until {formatTime(l.expiresAt)}
                  </li>
                ))}
              </ul>
            ) : null}
          </>
        )}
      </LoadState>
    </section>
  );
}
