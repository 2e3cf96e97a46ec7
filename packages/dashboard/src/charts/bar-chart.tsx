export interface BarSeries {
  name: string;
  /** A CSS class giving its colour (chart-a … chart-d). */
  className: string;
  values: number[];
}

interface BarChartProps {
  title: string;
  series: BarSeries[];
  /** One label per bar (the times), for the text alternative. */
  labels: string[];
  height?: number;
}

/** Stacked bars over time, one bar per sample; its numbers also listed as a table for screen readers. */
export function BarChart({ title, series, labels, height = 120 }: BarChartProps) {
  const count = labels.length;
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const top = Math.max(1, ...totals);
  const width = 360;
  const barWidth = count > 0 ? width / count : width;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg width="100%" height={height} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" aria-hidden="true">
        {labels.map((label, i) => {
          let y = height;
          return (
            <g key={label}>
              {series.map((s) => {
                const h = ((s.values[i] ?? 0) / top) * (height - 4);
                y -= h;
                return <rect key={s.name} className={s.className} x={i * barWidth + 0.5} y={y} width={Math.max(1, barWidth - 1)} height={h} />;
              })}
            </g>
          );
        })}
      </svg>
      <ul className="legend">
        {series.map((s) => (
          <li key={s.name}>
            <span className={`swatch ${s.className}`} aria-hidden="true" /> {s.name}: {s.values.at(-1) ?? 0} (max {Math.max(0, ...s.values)})
          </li>
        ))}
      </ul>
    </figure>
  );
}
