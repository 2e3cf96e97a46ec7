import { call } from '../api/dashboard-routes.js';
import type { StatsSample } from '../api/types.js';
import { useApp, useLive } from '../app-context.js';
import { BarChart } from '../charts/bar-chart.js';
import { LineChart } from '../charts/line-chart.js';
import { useFetch } from './use-fetch.js';

const keep = 180;

/** The daemon's last half hour from /v1/stats, extended by each live `stats` event. */
export function StatsCharts() {
  const { api } = useApp();
  const stats = useFetch((signal) => api.json<{ history: StatsSample[] }>(call('GET /v1/stats'), { signal }).then((b) => b.history));
  useLive('stats', (sample) => stats.set((current) => [...(current ?? []), sample].slice(-keep)));
  if (stats.error && !stats.data) return <p className="hint">Charts unavailable: {stats.error}</p>;
  const history = stats.data ?? [];
  if (history.length === 0) return null;
  const labels = history.map((s) => s.at);
  return (
    <details className="charts" open>
      <summary>Activity, last {Math.round((history.length * 10) / 60)} minutes</summary>
      <div className="chart-grid">
        <BarChart
          title="Sandboxes"
          labels={labels}
          series={[
            { name: 'running', className: 'chart-a', values: history.map((s) => s.sandboxes.running) },
            { name: 'paused', className: 'chart-b', values: history.map((s) => s.sandboxes.paused) },
          ]}
        />
        <LineChart
          title="Exec latency"
          unit=" ms"
          series={[
            { name: 'p50', className: 'chart-a', values: history.map((s) => s.execMs?.p50 ?? 0) },
            { name: 'p95', className: 'chart-c', values: history.map((s) => s.execMs?.p95 ?? 0) },
          ]}
        />
        <BarChart
          title="Pool hits and misses"
          labels={labels}
          series={[
            { name: 'hits', className: 'chart-a', values: history.map((s) => s.pool.hits) },
            { name: 'misses', className: 'chart-c', values: history.map((s) => s.pool.misses) },
          ]}
        />
        <BarChart
          title="Policy decisions"
          labels={labels}
          series={[
            { name: 'allow', className: 'chart-a', values: history.map((s) => s.decisions.allow) },
            { name: 'ask', className: 'chart-b', values: history.map((s) => s.decisions.ask) },
            { name: 'deny', className: 'chart-c', values: history.map((s) => s.decisions.deny) },
          ]}
        />
        <BarChart title="Egress refused" labels={labels} series={[{ name: 'refused', className: 'chart-c', values: history.map((s) => s.egressRefused) }]} />
      </div>
    </details>
  );
}
