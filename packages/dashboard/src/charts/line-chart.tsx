import type { BarSeries } from './bar-chart.js';

interface LineChartProps {
  title: string;
  series: BarSeries[];
  unit?: string;
  height?: number;
}

/** Lines over time on one scale; the legend gives each line's last and highest value. */
export function LineChart({ title, series, unit = '', height = 120 }: LineChartProps) {
  const width = 360;
  const top = Math.max(1e-9, ...series.flatMap((s) => s.values));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg width="100%" height={height} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" aria-hidden="true">
        {series.map((s) => {
          const step = s.values.length > 1 ? width / (s.values.length - 1) : width;
          const points = s.values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / top) * (height - 4)).toFixed(1)}`).join(' ');
          return <polyline key={s.name} className={`line ${s.className}`} points={points} />;
        })}
      </svg>
      <ul className="legend">
        {series.map((s) => (
          <li key={s.name}>
            <span className={`swatch ${s.className}`} aria-hidden="true" /> {s.name}: {round(s.values.at(-1) ?? 0)}
            {unit} (max {round(Math.max(0, ...s.values))}
            {unit})
          </li>
        ))}
      </ul>
    </figure>
  );
}

function round(value: number): string {
  return value >= 100 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
}
