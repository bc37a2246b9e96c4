/**
 * Turns history (live rings, or server trends) into uPlot's aligned columns for the four trend charts,
 * with each line's lowest and highest values per point when the min–max band is shown.
 */
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
  /** Per series, the lowest and highest value behind each point (the min–max band); absent when off. */
  lower?: Column[];
  upper?: Column[];
  /** Seconds each point averages; the hover time names it when points are buckets, not samples. */
  bucketSeconds?: number;
}

/** The same series on every chart (GPU 3's utilization and its VRAM are both `gpu:3`): what the legend hides. */
export function seriesId(colorKey: ChartSeries['colorKey']): string {
  return typeof colorKey === 'number' ? `gpu:${colorKey}` : colorKey;
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

/** A step this many times the usual one means no data arrived: an outage, drawn as a break in the line. */
const GAP_FACTOR = 3;

function medianStep(x: readonly number[]): number {
  const steps: number[] = [];
  for (let i = 1; i < x.length; i += 1) steps.push((x[i] ?? 0) - (x[i - 1] ?? 0));
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)] ?? 0;
}

/**
 * Puts a null row into every gap of more than a few usual steps, so that lines stop where data stopped
 * instead of drawing a straight line across an outage. `minStep` is the bucket width, in seconds.
 */
export function breakAtGaps(chart: ChartData, minStep = 0): ChartData {
  const limit = GAP_FACTOR * Math.max(minStep, medianStep(chart.x));
  if (chart.x.length < 3 || limit <= 0) return chart;
  const gaps: number[] = [];
  const { lower, upper } = chart;
  for (let i = 1; i < chart.x.length; i += 1) {
    if ((chart.x[i] ?? 0) - (chart.x[i - 1] ?? 0) > limit) gaps.push(i);
  }
  if (gaps.length === 0) return chart;
  const x: number[] = [];
  // Lines and their bands break at the same rows.
  const sources: Column[] = [...chart.columns, ...(lower ?? []), ...(upper ?? [])];
  const out: Column[] = sources.map(() => []);
  let next = 0;
  for (let i = 0; i < chart.x.length; i += 1) {
    if (gaps[next] === i) {
      x.push(((chart.x[i - 1] ?? 0) + (chart.x[i] ?? 0)) / 2);
      out.forEach((column) => column.push(null));
      next += 1;
    }
    x.push(chart.x[i] ?? 0);
    sources.forEach((column, c) => out[c]?.push(column[i] ?? null));
  }
  const count = chart.columns.length;
  const broken: ChartData = { ...chart, x, columns: out.slice(0, count) };
  if (lower) broken.lower = out.slice(count, count + lower.length);
  if (upper) broken.upper = out.slice(count + (lower?.length ?? 0));
  return broken;
}

function breakSetAtGaps(set: ChartSet, minStep: number): ChartSet {
  return {
    utilization: breakAtGaps(set.utilization, minStep),
    memory: breakAtGaps(set.memory, minStep),
    temperature: breakAtGaps(set.temperature, minStep),
    power: breakAtGaps(set.power, minStep),
  };
}

function gpuLabel(gpuId: number, gpuCount: number): string {
  return gpuCount === 1 ? 'GPU' : `GPU ${gpuId}`;
}

interface Lines {
  columns: Column[];
  series: ChartSeries[];
  lower?: Column[];
  upper?: Column[];
}

/** One chart: some lines of GPUs, then optionally one of the host, sharing the x values. */
function chart(x: number[], gpus: Lines, host?: { column: Column; lower?: Column; upper?: Column; series: ChartSeries }): ChartData {
  if (!host) return { x, ...gpus };
  const data: ChartData = { x, columns: [...gpus.columns, host.column], series: [...gpus.series, host.series] };
  if (gpus.lower && host.lower) data.lower = [...gpus.lower, host.lower];
  if (gpus.upper && host.upper) data.upper = [...gpus.upper, host.upper];
  return data;
}

function withSuffix(lines: Lines, suffix: string): Lines {
  return { ...lines, series: lines.series.map((series) => ({ ...series, label: `${series.label}${suffix}` })) };
}

/** Chart columns from the live rings; `withBands` adds each line's min and max per point. */
export function buildLiveCharts(
  history: LiveHistory,
  range: LiveRange,
  gpuIds: readonly number[],
  nowMs: number,
  withBands = false,
): ChartSet {
  const ring = history.ring(range);
  const fromMs = nowMs - LIVE_RANGE_TIERS[range].spanMs;
  // Groups are aligned to the epoch, so the window's edges can add one partial group: hence the - 1.
  const stride = Math.max(1, Math.ceil(ring.countFrom(fromMs) / (MAX_CHART_POINTS - 1)));
  const x = ring.times(fromMs, stride);
  const known = gpuIds.filter((id) => history.hasGPU(id));

  const lines = (fields: number[], series: ChartSeries[]): Lines => {
    const data: Lines = { columns: fields.map((field) => ring.field(field, fromMs, stride)), series };
    if (withBands) {
      const ranges = fields.map((field) => ring.fieldRange(field, fromMs, stride));
      data.lower = ranges.map((r) => r.lower);
      data.upper = ranges.map((r) => r.upper);
    }
    return data;
  };
  const gpuSeries = known.map((id): ChartSeries => ({ label: gpuLabel(id, known.length), colorKey: id }));
  const gpuLines = (field: number): Lines =>
    lines(known.map((id) => history.fieldIndexOfGPU(id, field) ?? 0), gpuSeries);
  const hostLine = (field: number, series: ChartSeries) => {
    const line = lines([field], [series]);
    return { column: line.columns[0] ?? [], lower: line.lower?.[0], upper: line.upper?.[0], series };
  };

  const bucketSeconds = (LIVE_RANGE_TIERS[range].bucketMs * stride) / 1000;
  const set = breakSetAtGaps(
    {
      utilization: chart(x, gpuLines(GPU_FIELD.utilization), hostLine(HOST_FIELD.cpu, { label: 'CPU', colorKey: 'cpu' })),
      memory: chart(
        x,
        withSuffix(gpuLines(GPU_FIELD.memoryUsedGb), ' VRAM'),
        hostLine(HOST_FIELD.ramUsedGb, { label: 'RAM', colorKey: 'ram' }),
      ),
      temperature: chart(x, gpuLines(GPU_FIELD.temperature)),
      power: chart(x, gpuLines(GPU_FIELD.power)),
    },
    bucketSeconds,
  );
  return withBucket(set, bucketSeconds);
}

function withBucket(set: ChartSet, bucketSeconds: number): ChartSet {
  return {
    utilization: { ...set.utilization, bucketSeconds },
    memory: { ...set.memory, bucketSeconds },
    temperature: { ...set.temperature, bucketSeconds },
    power: { ...set.power, bucketSeconds },
  };
}

/** Charts straight from server history: the 7 d and 30 d ranges, which no live buffer covers. */
export function buildTrendCharts(table: TrendTable, gpuIds: readonly number[], withBands = false): ChartSet {
  const known = gpuIds.filter((id) => table.gpuIds().includes(id));
  const x = table.times;
  const bands = (metric: string, ids: (number | null)[]) =>
    withBands
      ? { lower: ids.map((id) => table.column(metric, id, 'min')), upper: ids.map((id) => table.column(metric, id, 'max')) }
      : {};
  const perGPU = (metric: string, suffix = ''): Lines => ({
    columns: known.map((id) => table.column(metric, id)),
    series: known.map((id): ChartSeries => ({ label: `${gpuLabel(id, known.length)}${suffix}`, colorKey: id })),
    ...bands(metric, known),
  });
  const host = (metric: string, series: ChartSeries) => {
    const band = bands(metric, [null]);
    return { column: table.column(metric, null), lower: band.lower?.[0], upper: band.upper?.[0], series };
  };
  const set = breakSetAtGaps(
    {
      utilization: chart(x, perGPU(TREND_METRICS.gpuUtilization), host(TREND_METRICS.cpuUtilization, { label: 'CPU', colorKey: 'cpu' })),
      memory: chart(x, perGPU(TREND_METRICS.gpuMemoryUsedGb, ' VRAM'), host(TREND_METRICS.ramUsedGb, { label: 'RAM', colorKey: 'ram' })),
      temperature: chart(x, perGPU(TREND_METRICS.temperature)),
      power: chart(x, perGPU(TREND_METRICS.power)),
    },
    table.bucketSeconds,
  );
  return withBucket(set, table.bucketSeconds);
}

/** A bucket width as people say it: 5 s, 1 min, 1 h. */
export function formatBucket(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${+(seconds / 60).toFixed(1)} min`;
  return `${+(seconds / 3600).toFixed(1)} h`;
}

/**
 * The legend's time under the cursor, to the second, and the bucket width where a point averages more
 * than one second (`Dec 2, 14:05:10 · 15 s avg`).
 */
export function formatHoverTime(seconds: number | null | undefined, bucketSeconds = 1): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '--';
  const time = formatTime(seconds);
  return bucketSeconds > 1 ? `${time} · ${formatBucket(bucketSeconds)} avg` : time;
}

function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
}
