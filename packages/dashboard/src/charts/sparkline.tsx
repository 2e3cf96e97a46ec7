interface SparklineProps {
  values: number[];
  /** What it shows, read out by screen readers with its last value. */
  label: string;
  width?: number;
  height?: number;
  max?: number;
}

/** A small line of the last values, newest on the right. */
export function Sparkline({ values, label, width = 80, height = 20, max }: SparklineProps) {
  const top = Math.max(max ?? 0, ...values, 1e-9);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / top) * (height - 2)).toFixed(1)}`).join(' ');
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      {values.length > 1 ? <polyline points={points} /> : null}
    </svg>
  );
}
