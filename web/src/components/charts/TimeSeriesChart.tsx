import { memo, useLayoutEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartData } from '../../utils/chartData';
import type { Theme } from '../../types/system';
import { seriesColor } from './palette';

export interface Threshold {
  value: number;
  label: string;
  tone: 'warn' | 'critical';
}

interface TimeSeriesChartProps {
  title: string;
  testId: string;
  data: ChartData;
  unit: string;
  decimals?: number;
  /** Fixed y range (percent charts); otherwise uPlot fits the data, from zero. */
  yRange?: [number, number];
  thresholds?: Threshold[];
  theme: Theme;
}

const CHART_HEIGHT = 220;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

function thresholdPlugin(thresholds: Threshold[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (chart) => {
        const { ctx, bbox } = chart;
        ctx.save();
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
        ctx.textAlign = 'left';
        ctx.textBaseline = 'bottom';
        for (const threshold of thresholds) {
          const y = Math.round(chart.valToPos(threshold.value, 'y', true));
          if (y < bbox.top || y > bbox.top + bbox.height) continue;
          const color = cssVar(threshold.tone === 'critical' ? '--critical' : '--warn', '#ef4444');
          ctx.strokeStyle = color;
          ctx.fillStyle = color;
          ctx.beginPath();
          ctx.moveTo(bbox.left, y);
          ctx.lineTo(bbox.left + bbox.width, y);
          ctx.stroke();
          ctx.fillText(threshold.label, bbox.left + 4 * devicePixelRatio, y - 2 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}

function toAligned(data: ChartData): uPlot.AlignedData {
  return [data.x, ...data.columns] as uPlot.AlignedData;
}

/** A uPlot line chart: created when its series or theme change, otherwise only fed new data. */
export const TimeSeriesChart = memo(function TimeSeriesChart({
  title,
  testId,
  data,
  unit,
  decimals = 1,
  yRange,
  thresholds,
  theme,
}: TimeSeriesChartProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<uPlot | null>(null);
  const dataRef = useRef(data);
  dataRef.current = data;

  // Only these rebuild the chart; new points go through setData.
  const shapeKey = useMemo(
    () => `${theme}|${data.series.map((series) => `${series.label}:${series.colorKey}`).join(',')}`,
    [theme, data.series],
  );

  // A layout effect, declared before the one feeding data, so a change of series rebuilds the chart
  // before any data for the new series reaches it.
  useLayoutEffect(() => {
    const host = hostRef.current;
    if (!host) return undefined;
    const axisColor = cssVar('--text-muted', '#94a3b8');
    const gridColor = cssVar('--grid', '#334155');
    // The legend shows values under the cursor; with no cursor (or no data there) a dash, not "N/A".
    const format = (value: number | null) =>
      value === null || !Number.isFinite(value) ? '–' : `${value.toFixed(decimals)} ${unit}`;
    const axis: uPlot.Axis = {
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1, dash: [3, 3] },
      ticks: { stroke: gridColor, width: 1 },
      font: '11px system-ui, sans-serif',
    };
    const options: uPlot.Options = {
      width: Math.max(200, host.clientWidth),
      height: CHART_HEIGHT,
      pxAlign: false,
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      legend: { live: true },
      scales: {
        x: { time: true },
        y: yRange ? { range: yRange } : { range: (_chart, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { ...axis },
        { ...axis, size: 52, values: (_chart, ticks) => ticks.map((tick) => `${tick}${unit === '%' ? '%' : ''}`) },
      ],
      series: [
        { label: 'Time' },
        ...dataRef.current.series.map(
          (series): uPlot.Series => ({
            label: series.label,
            stroke: seriesColor(series.colorKey),
            width: 1,
            spanGaps: true,
            points: { show: false },
            value: (_chart, value) => format(value),
          }),
        ),
      ],
      plugins: thresholds && thresholds.length > 0 ? [thresholdPlugin(thresholds)] : [],
    };
    const chart = new uPlot(options, toAligned(dataRef.current), host);
    chartRef.current = chart;
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, host.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height: CHART_HEIGHT });
    });
    observer.observe(host);
    return () => {
      observer.disconnect();
      chart.destroy();
      chartRef.current = null;
    };
    // yRange, thresholds, unit and decimals are fixed per chart instance.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shapeKey]);

  // Part of the commit, so a live update is fully drawn when React is done with it.
  useLayoutEffect(() => {
    const chart = chartRef.current;
    if (chart && chart.series.length === data.columns.length + 1) chart.setData(toAligned(data));
  }, [data]);

  const empty = data.x.length < 2;
  return (
    <section className="panel chart-panel" data-testid={testId} aria-label={`${title} chart`}>
      <h3>{title}</h3>
      <div className="chart-host" ref={hostRef} role="img" aria-label={`${title} over time`}>
        {empty && <div className="chart-empty">Collecting data…</div>}
      </div>
    </section>
  );
});
