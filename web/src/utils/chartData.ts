/** Turns history (live rings, or server trends) into uPlot's aligned columns for the four trend charts. */
import { TREND_METRICS } from '../api/history';
import type { TrendTable } from './trendTable';
import { GPU_FIELD, HOST_FIELD, LIVE_RANGE_TIERS, type LiveHistory, type LiveRange } from '../stores/liveHistory';

export type Column = (number | null)[];

export interface ChartSeries {
  label: string;
  /** Index into the palette, stable per GPU so colours do not jump when the selection changes. */
  colorKey: number | 'cpu' | 'ram';
}

export interface ChartData {
  /** x values, Unix seconds. */
  x: number[];
  columns: Column[];
  series: ChartSeries[];
}

export interface ChartSet {
  utilization: ChartData;
  memory: ChartData;
  temperature: ChartData;
  power: ChartData;
}

/**
 * Most points a chart line gets: about one per pixel column of a chart on a laptop or desktop screen.
 * More cannot be seen, and drawing them is what would make a live update miss its frame.
 */
export const MAX_CHART_POINTS = 600;

export const EMPTY_CHART: ChartData = { x: [], columns: [], series: [] };

function gpuLabel(gpuId: number, gpuCount: number): string {
  return gpuCount === 1 ? 'GPU' : `GPU ${gpuId}`;
}

export function buildLiveCharts(
  history: LiveHistory,
  range: LiveRange,
  gpuIds: readonly number[],
  nowMs: number,
): ChartSet {
  const ring = history.ring(range);
  const fromMs = nowMs - LIVE_RANGE_TIERS[range].spanMs;
  // Groups are aligned to the epoch, so the window's edges can add one partial group: hence the - 1.
  const stride = Math.max(1, Math.ceil(ring.countFrom(fromMs) / (MAX_CHART_POINTS - 1)));
  const x = ring.times(fromMs, stride);
  const known = gpuIds.filter((id) => history.hasGPU(id));

  const gpuColumns = (field: number): { columns: Column[]; series: ChartSeries[] } => ({
    columns: known.map((id) => ring.field(history.fieldIndexOfGPU(id, field) ?? 0, fromMs, stride)),
    series: known.map((id) => ({ label: gpuLabel(id, known.length), colorKey: id })),
  });

  const utilization = gpuColumns(GPU_FIELD.utilization);
  const memory = gpuColumns(GPU_FIELD.memoryUsedGb);
  const temperature = gpuColumns(GPU_FIELD.temperature);
  const power = gpuColumns(GPU_FIELD.power);

  return {
    utilization: {
      x,
      columns: [...utilization.columns, ring.field(HOST_FIELD.cpu, fromMs, stride)],
      series: [...utilization.series, { label: 'CPU', colorKey: 'cpu' }],
    },
    memory: {
      x,
      columns: [...memory.columns, ring.field(HOST_FIELD.ramUsedGb, fromMs, stride)],
      series: [
        ...memory.series.map((series) => ({ ...series, label: `${series.label} VRAM` })),
        { label: 'RAM', colorKey: 'ram' },
      ],
    },
    temperature: { x, ...temperature },
    power: { x, ...power },
  };
}

/** Charts straight from server history: the 7 d and 30 d ranges, which no live buffer covers. */
export function buildTrendCharts(table: TrendTable, gpuIds: readonly number[]): ChartSet {
  const known = gpuIds.filter((id) => table.gpuIds().includes(id));
  const perGPU = (metric: string, suffix = '') => ({
    columns: known.map((id) => table.column(metric, id)),
    series: known.map((id): ChartSeries => ({ label: `${gpuLabel(id, known.length)}${suffix}`, colorKey: id })),
  });
  const x = table.times;
  const utilization = perGPU(TREND_METRICS.gpuUtilization);
  const memory = perGPU(TREND_METRICS.gpuMemoryUsedGb, ' VRAM');
  return {
    utilization: {
      x,
      columns: [...utilization.columns, table.column(TREND_METRICS.cpuUtilization, null)],
      series: [...utilization.series, { label: 'CPU', colorKey: 'cpu' }],
    },
    memory: {
      x,
      columns: [...memory.columns, table.column(TREND_METRICS.ramUsedGb, null)],
      series: [...memory.series, { label: 'RAM', colorKey: 'ram' }],
    },
    temperature: { x, ...perGPU(TREND_METRICS.temperature) },
    power: { x, ...perGPU(TREND_METRICS.power) },
  };
}
