import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

/**
 * A uPlot chart that follows its container's width. `options` must keep
 * its identity between renders unless the series change (build it with
 * useMemo); new `data` is handed to the same chart. The caption and the
 * summary say in words what the canvas shows.
 */
export function Chart({
  caption,
  summary,
  options,
  data,
  height = 220,
}: {
  caption: string;
  summary: string;
  options: ChartOptions;
  data: uPlot.AlignedData;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    const node = box.current;
    if (!node) return;
    let width = Math.max(200, node.clientWidth);
    const u = new uPlot({ ...options, width, height }, dataRef.current, node);
    plot.current = u;
    let frame = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      // Resized in the next frame, not inside the observer (which would loop on our own resize).
      frame = requestAnimationFrame(() => {
        const w = Math.max(200, node.clientWidth);
        if (w !== width) {
          width = w;
          u.setSize({ width: w, height });
        }
      });
    });
    ro.observe(node);
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [options, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return (
    <figure className="chart">
      <figcaption>{caption}</figcaption>
      <div ref={box} className="chart-box" />
      <p className="visually-hidden">{summary}</p>
    </figure>
  );
}

/** Severity colours on canvas (CSS variables do not reach it); the same as the badges in styles.css. */
export const SEVERITY_COLORS = {
  critical: '#a4161a',
  high: '#d9480f',
  medium: '#c28a00',
  low: '#3b6fc4',
  info: '#6b7280',
} as const;

export const SERIES_COLORS = ['#1f4e99', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0f766e'];
