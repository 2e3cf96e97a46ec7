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
  // One path per series (each bar a closed rectangle in it), not an element per bar: 180 samples of
  // 3 series are 3 elements for the page to make, not 540.
  const bars: Record<string, string> = {};
  const below = labels.map(() => height);
  for (const s of series) {
    const parts: string[] = [];
    labels.forEach((_, i) => {
      const h = ((s.values[i] ?? 0) / top) * (height - 4);
      const base = below[i] ?? height;
      below[i] = base - h;
      if (h > 0)
        parts.push(
          `M${(i * barWidth + 0.5).toFixed(2)} ${(base - h).toFixed(2)}h${Math.max(1, barWidth - 1).toFixed(2)}v${h.toFixed(2)}h-${Math.max(1, barWidth - 1).toFixed(2)}z`,
        );
    });
    bars[s.name] = parts.join('');
  }
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg width="100%" height={height} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" aria-hidden="true">
        {series.map((s) => (
          <path key={s.name} className={s.className} d={bars[s.name]} />
        ))}
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
