import { cpuPercent } from '../format.ts';

/** Recent CPU (cores in use) as a small inline SVG line from 0 to one core or the peak; its label says the figures. */
export function Sparkline({
  values,
  width = 96,
  height = 22,
}: {
  values: number[] | undefined;
  width?: number;
  height?: number;
}) {
  if (!values || values.length === 0) return <span className="muted">no data</span>;
  const top = Math.max(1, ...values);
  const last = values[values.length - 1]!;
  const peak = Math.max(...values);
  const step = values.length > 1 ? (width - 2) / (values.length - 1) : 0;
  const points = values
    .map((v, i) => `${(1 + i * step).toFixed(1)},${(height - 1 - (v / top) * (height - 2)).toFixed(1)}`)
    .join(' ');
  const label = `CPU now ${cpuPercent(last)} of one core, peak ${cpuPercent(peak)}, over the last ${values.length} samples`;
  return (
    <span className="spark">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
        <title>{label}</title>
        <polyline points={values.length > 1 ? points : `1,${height - 1} ${width - 1},${height - 1}`} />
      </svg>
      <span className="spark-value">{cpuPercent(last)}</span>
    </span>
  );
}
