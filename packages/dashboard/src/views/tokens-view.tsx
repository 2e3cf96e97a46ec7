import { call } from '../api/dashboard-routes.js';
import type { TenantInfo, TokenInfo } from '../api/types.js';
import { useApp } from '../app-context.js';
import { DataTable } from '../components/data-table.js';
import { LoadState } from '../components/load-state.js';
import { errorText, formatTime } from '../format.js';
import { useFetch } from './use-fetch.js';

const quota = (value: number | null, unit = '') => (value === null ? '∞' : `${value}${unit}`);

/** Tenants and tokens: the nav shows it to admins; the API decides what anyone sees. */
export function TokensView() {
  const { api, notify } = useApp();
  const tenants = useFetch((signal) => api.json<{ tenants: TenantInfo[] }>(call('GET /v1/tenants'), { signal }).then((b) => b.tenants));
  const tokens = useFetch((signal) => api.json<{ tokens: TokenInfo[] }>(call('GET /v1/tokens'), { signal }).then((b) => b.tokens));
  const revoke = async (token: TokenInfo) => {
    if (!window.confirm(`Revoke token ${token.id} (${token.owner})? Its sessions end too.`)) return;
    try {
      await api.response(call('DELETE /v1/tokens/{id}', { id: token.id }));
      notify(`${token.id} revoked`);
      tokens.reload();
    } catch (e) {
      notify(`Refused — ${errorText(e)}`, 'error');
    }
  };
  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">Tenants and tokens</h1>
      <h2>Tenants</h2>
      <LoadState loaded={tenants}>
        {(rows) => (
          <DataTable
            rows={rows}
            rowKey={(t) => t.name}
            columns={[
              { header: 'Name', cell: (t) => t.name },
              { header: 'Sandboxes', cell: (t) => `${t.usage.sandboxes} / ${quota(t.maxSandboxes)}` },
              { header: 'Memory', cell: (t) => `${t.usage.memoryMiB} / ${quota(t.maxMemoryMiB, ' MiB')}` },
              { header: 'CPUs', cell: (t) => `${t.usage.cpus} / ${quota(t.maxCpus)}` },
              { header: 'Created', cell: (t) => formatTime(t.createdAt) },
            ]}
          />
        )}
      </LoadState>
      <h2>Tokens</h2>
      <LoadState loaded={tokens}>
        {(rows) => (
          <DataTable
            rows={rows}
            rowKey={(t) => t.id}
            columns={[
              { header: 'ID', cell: (t) => t.id },
              { header: 'Name', cell: (t) => t.name ?? '–' },
              { header: 'Tenant', cell: (t) => t.tenant },
              { header: 'Role', cell: (t) => t.role },
              { header: 'Owner', cell: (t) => t.owner },
              { header: 'Scoped', cell: (t) => (t.scope ? 'yes' : 'no') },
              { header: 'Expires', cell: (t) => formatTime(t.expiresAt) },
              { header: 'Revoked', cell: (t) => formatTime(t.revokedAt) },
              {
                header: 'Actions',
                cell: (t) =>
                  t.revokedAt ? null : (
                    <button type="button" className="danger" onClick={() => void revoke(t)} aria-label={`Revoke ${t.id}`}>
                      Revoke
                    </button>
                  ),
              },
            ]}
          />
        )}
      </LoadState>
    </section>
  );
}
