import { call } from '../api/dashboard-routes.js';
import type { GatewayServerInfo, PoolInfo, TemplateInfo, VolumeInfo } from '../api/types.js';
import { useApp } from '../app-context.js';
import { DataTable } from '../components/data-table.js';
import { LoadState } from '../components/load-state.js';
import { formatBytes, formatTime } from '../format.js';
import { useFetch } from './use-fetch.js';

export function TemplatesView() {
  const { api } = useApp();
  const templates = useFetch((signal) => api.json<{ templates: TemplateInfo[] }>(call('GET /v1/templates'), { signal }).then((b) => b.templates));
  return (
    <section aria-labelledby="templates-title">
      <h1 id="templates-title">Templates</h1>
      <LoadState loaded={templates}>
        {(rows) => (
          <DataTable
            rows={rows}
            rowKey={(t) => t.name}
            columns={[
              { header: 'Name', cell: (t) => t.name },
              { header: 'Kind', cell: (t) => t.kind },
              { header: 'Parent', cell: (t) => t.parent ?? '–' },
              { header: 'Image', cell: (t) => t.image?.ref ?? '–' },
              { header: 'Size', cell: (t) => formatBytes(t.sizeBytes) },
              { header: 'Layers', cell: (t) => t.layers.length },
              { header: 'Created', cell: (t) => formatTime(t.createdAt) },
            ]}
          />
        )}
      </LoadState>
    </section>
  );
}

export function PoolsView() {
  const { api } = useApp();
  const pools = useFetch((signal) => api.json<{ pools: PoolInfo[] }>(call('GET /v1/pools'), { signal }).then((b) => b.pools));
  return (
    <section aria-labelledby="pools-title">
      <h1 id="pools-title">Pools</h1>
      <LoadState loaded={pools}>
        {(rows) => (
          <DataTable
            rows={rows}
            rowKey={(p) => p.id}
            columns={[
              { header: 'ID', cell: (p) => p.id },
              { header: 'Template', cell: (p) => p.template },
              { header: 'Tier', cell: (p) => p.tier },
              { header: 'Ready / size', cell: (p) => `${p.ready} / ${p.size}` },
              {
                header: 'Hit rate',
                cell: (p) => (p.hits + p.misses ? `${Math.round((100 * p.hits) / (p.hits + p.misses))}% (${p.hits} hits, ${p.misses} misses)` : '–'),
              },
              { header: 'Last refill', cell: (p) => (p.lastRefillMs === null ? '–' : `${Math.round(p.lastRefillMs)} ms`) },
            ]}
          />
        )}
      </LoadState>
    </section>
  );
}

export function VolumesView() {
  const { api } = useApp();
  const volumes = useFetch((signal) => api.json<{ volumes: VolumeInfo[] }>(call('GET /v1/volumes'), { signal }).then((b) => b.volumes));
  return (
    <section aria-labelledby="volumes-title">
      <h1 id="volumes-title">Volumes</h1>
      <LoadState loaded={volumes}>
        {(rows) => (
          <DataTable
            rows={rows}
            rowKey={(v) => v.name}
            columns={[
              { header: 'Name', cell: (v) => v.name },
              { header: 'Used / size', cell: (v) => `${formatBytes(v.usedBytes)} / ${v.sizeMiB} MiB` },
              {
                header: 'Mounted in',
                cell: (v) =>
                  v.mounts.length
                    ? v.mounts.map((m) => (
                        <a key={m.sandbox} href={`#/sandboxes/${m.sandbox}`}>
                          {m.sandbox}:{m.path}
                          {m.readOnly ? ' (ro)' : ''}{' '}
                        </a>
                      ))
                    : '–',
              },
              { header: 'Created', cell: (v) => formatTime(v.createdAt) },
            ]}
          />
        )}
      </LoadState>
    </section>
  );
}

export function GatewayView() {
  const { api } = useApp();
  const servers = useFetch((signal) => api.json<{ servers: GatewayServerInfo[] }>(call('GET /v1/gateway/servers'), { signal }).then((b) => b.servers));
  return (
    <section aria-labelledby="gateway-title">
      <h1 id="gateway-title">Gateway servers</h1>
      <LoadState loaded={servers}>
        {(rows) => (
          <DataTable
            rows={rows}
            rowKey={(s) => s.name}
            columns={[
              { header: 'Name', cell: (s) => s.name },
              { header: 'State', cell: (s) => s.state },
              { header: 'Command', cell: (s) => <code>{s.command.join(' ')}</code> },
              { header: 'Tools', cell: (s) => s.tools.map((t) => t.name).join(', ') || '–' },
              { header: 'Restarts', cell: (s) => s.restarts },
              { header: 'Last error', cell: (s) => s.lastError ?? '–' },
              { header: 'Sandbox', cell: (s) => (s.sandboxId ? <a href={`#/sandboxes/${s.sandboxId}`}>{s.sandboxId}</a> : '–') },
            ]}
          />
        )}
      </LoadState>
    </section>
  );
}
