import { afterEach, describe, expect, it } from 'vitest';
import { bandHasWidth, bandRuns } from '../src/components/charts/bands';
import { useChartView } from '../src/stores/chartView';
import { LiveHistory } from '../src/stores/liveHistory';
import { createPreferencesStore, withSeriesHidden } from '../src/stores/preferences';
import type { TrendSeries, TrendsResponse } from '../src/api/history';
import type { AlertHistoryItem } from '../src/types/alerts';
import { BucketRing } from '../src/utils/aggregate';
import { chartMarkers, sameMarkers } from '../src/utils/alertMarkers';
import { breakAtGaps, buildLiveCharts, buildTrendCharts, seriesId } from '../src/utils/chartData';
import { TrendTable } from '../src/utils/trendTable';
import { makeGPU, makeSystem, memoryStorage } from './fixtures';

function trends(tier: TrendsResponse['tier'], bucketSeconds: number, series: TrendSeries[]): TrendsResponse {
  const times = series.flatMap((one) => one.timestamps);
  return { range: null, node: 'local', tier, bucket_seconds: bucketSeconds, start: Math.min(...times), end: Math.max(...times), series };
}

describe('min–max band data', () => {
  it('keeps the lowest and highest sample of each bucket beside its mean', () => {
    const ring = new BucketRing(5_000, 10, 1);
    [40, 10, 70, 20, 60].forEach((value, i) => ring.push(i * 1000, [value]));
    ring.push(5_000, [30]);
    expect(ring.field(0, 0)).toEqual([40, 30]);
    expect(ring.fieldRange(0, 0)).toEqual({ lower: [10, 30], upper: [70, 30] });
  });

  it('spans every bucket of a group when points are grouped for the point cap', () => {
    const ring = new BucketRing(1_000, 10, 2);
    [5, 9, 1, 7].forEach((value, i) => ring.push(i * 1000, [value, null]));
    expect(ring.fieldRange(0, 0, 2)).toEqual({ lower: [5, 1], upper: [9, 7] });
    expect(ring.fieldRange(1, 0, 2)).toEqual({ lower: [null, null], upper: [null, null] });
  });

  it('takes a server bucket min and max from history backfill, not just its mean', () => {
    const history = new LiveHistory();
    const series = (metric: string, gpuId: number | null, avg: number, min: number, max: number): TrendSeries => ({
      metric,
      gpu_id: gpuId,
      unit: '',
      timestamps: [1_700_000_000, 1_700_000_005],
      avg: [avg, avg],
      min: [min, min],
      max: [max, max],
    });
    const answer = trends('5s', 5, [series('temperature', 0, 60, 55, 71), series('cpu_utilization', null, 20, 5, 45)]);
    history.backfill('6h', new TrendTable(answer));
    const charts = buildLiveCharts(history, '6h', [0], 1_700_000_010_000, true);
    expect(charts.temperature.bucketSeconds).toBe(5); // what the hover time names
    expect(charts.temperature.columns[0]).toEqual([60, 60]);
    expect(charts.temperature.lower?.[0]).toEqual([55, 55]);
    expect(charts.temperature.upper?.[0]).toEqual([71, 71]);
    // The host line has its band too, after the GPUs'.
    expect(charts.utilization.lower?.[1]).toEqual([5, 5]);
    expect(charts.utilization.upper?.[1]).toEqual([45, 45]);
  });

  it('computes no band while the band is off', () => {
    const history = new LiveHistory();
    history.record(1000, makeSystem(), [makeGPU(0)]);
    history.record(2000, makeSystem(), [makeGPU(0)]);
    const charts = buildLiveCharts(history, '1h', [0], 3000);
    expect(charts.utilization.lower).toBeUndefined();
    expect(charts.utilization.upper).toBeUndefined();
  });

  it('reads min and max columns from server trends for the long ranges', () => {
    const table = new TrendTable(
      trends('1m', 60, [{ metric: 'power_watts', gpu_id: 2, unit: 'W', timestamps: [0, 60], avg: [300, 310], min: [250, 200], max: [350, 400] }]),
    );
    const charts = buildTrendCharts(table, [2], true);
    expect(charts.power.bucketSeconds).toBe(60);
    expect(charts.power.lower).toEqual([[250, 200]]);
    expect(charts.power.upper).toEqual([[350, 400]]);
  });

  it('breaks a band where its line breaks', () => {
    const chart = breakAtGaps({
      x: [0, 1, 2, 3, 20, 21],
      columns: [[1, 2, 3, 4, 5, 6]],
      lower: [[0, 1, 2, 3, 4, 5]],
      upper: [[2, 3, 4, 5, 6, 7]],
      series: [{ label: 'GPU', colorKey: 0 }],
    });
    expect(chart.columns[0]).toEqual([1, 2, 3, 4, null, 5, 6]);
    expect(chart.lower?.[0]).toEqual([0, 1, 2, 3, null, 4, 5]);
    expect(chart.upper?.[0]).toEqual([2, 3, 4, 5, null, 6, 7]);
    expect(bandRuns(chart.lower![0]!, chart.upper![0]!)).toEqual([
      [0, 3],
      [5, 6],
    ]);
  });

  it('tells a band with width from one that is only the line', () => {
    expect(bandHasWidth([1, 2], [1, 2])).toBe(false);
    expect(bandHasWidth([1, null, 2], [1, null, 3])).toBe(true);
  });
});

function transition(overrides: Partial<AlertHistoryItem>): AlertHistoryItem {
  return {
    id: 't',
    alert_id: 'hot:gpu0',
    rule_id: 'hot',
    rule_name: 'GPU hot',
    metric: 'gpu.temperature_c',
    gpu_id: 0,
    instance: 'gpu0',
    severity: 'critical',
    state: 'firing',
    previous: 'pending',
    kind: 'firing',
    value: 90,
    threshold: 85,
    ts: 1_000,
    summary: '',
    suppressed: null,
    deliveries: [],
    ...overrides,
  };
}

describe('alert markers', () => {
  const temperature = new Map([['gpu.temperature_c', 'gpu' as const]]);
  const utilization = new Map([
    ['gpu.utilization_pct', 'gpu' as const],
    ['host.cpu_pct', 'cpu' as const],
  ]);
  const time = (seconds: number) => `t${seconds}`;

  it('marks firing and resolved transitions of the chart metric for the GPUs it shows, oldest first', () => {
    const items = [
      transition({ id: 'c', kind: 'resolved', state: 'resolved', ts: 1_300, severity: 'critical' }),
      transition({ id: 'b', kind: 'firing', ts: 1_100 }),
      transition({ id: 'p', kind: 'pending', state: 'pending', ts: 1_050 }),
      transition({ id: 'g', gpu_id: 5, ts: 1_200 }),
      transition({ id: 'u', metric: 'gpu.utilization_pct', ts: 1_150 }),
    ];
    const markers = chartMarkers(items, temperature, new Set(['gpu:0', 'gpu:1']), 1_000, 2_000, time);
    expect(markers).toEqual([
      { time: 1_100, severity: 'critical', firing: true, seriesId: 'gpu:0', label: 'Firing: GPU hot on GPU 0 · t1100' },
      { time: 1_300, severity: 'critical', firing: false, seriesId: 'gpu:0', label: 'Resolved: GPU hot on GPU 0 · t1300' },
    ]);
  });

  it('tells an unchanged marker list from a changed one, so charts redraw only for a change', () => {
    const items = [transition({ ts: 1_100 })];
    const first = chartMarkers(items, temperature, new Set(['gpu:0']), 1_000, 2_000, time);
    expect(sameMarkers(first, chartMarkers(items, temperature, new Set(['gpu:0']), 1_001, 2_000, time))).toBe(true);
    const resolved = [...items, transition({ kind: 'resolved', state: 'resolved', ts: 1_200 })];
    expect(sameMarkers(first, chartMarkers(resolved, temperature, new Set(['gpu:0']), 1_000, 2_000, time))).toBe(false);
  });

  it('leaves out transitions outside the window', () => {
    const items = [transition({ ts: 900 }), transition({ ts: 2_100 }), transition({ ts: 1_500, severity: 'warning' })];
    const markers = chartMarkers(items, temperature, new Set(['gpu:0']), 1_000, 2_000, time);
    expect(markers.map((marker) => [marker.time, marker.severity])).toEqual([[1_500, 'warning']]);
  });

  it('puts host alerts on the host series and never on a GPU', () => {
    const items = [
      transition({ metric: 'host.cpu_pct', gpu_id: null, instance: 'host', rule_name: 'CPU busy', ts: 1_400, severity: 'info' }),
    ];
    const markers = chartMarkers(items, utilization, new Set(['gpu:0', 'cpu']), 1_000, 2_000, time);
    expect(markers).toEqual([
      { time: 1_400, severity: 'info', firing: true, seriesId: 'cpu', label: 'Firing: CPU busy on host · t1400' },
    ]);
    expect(chartMarkers(items, temperature, new Set(['gpu:0']), 1_000, 2_000, time)).toEqual([]);
  });
});

describe('shared legend state', () => {
  it('names a series the same on every chart', () => {
    expect([seriesId(3), seriesId('cpu'), seriesId('ram')]).toEqual(['gpu:3', 'cpu', 'ram']);
  });

  it('hides and shows a series once, whichever chart asks', () => {
    const hidden = withSeriesHidden([], 'gpu:3', true);
    expect(hidden).toEqual(['gpu:3']);
    expect(withSeriesHidden(hidden, 'gpu:3', true)).toBe(hidden);
    expect(withSeriesHidden(withSeriesHidden(hidden, 'cpu', true), 'gpu:3', false)).toEqual(['cpu']);
  });

  it('remembers hidden series and the band toggle across a reload', () => {
    const storage = memoryStorage();
    const store = createPreferencesStore(storage);
    store.getState().setSeriesHidden('gpu:1', true);
    store.getState().setSeriesHidden('ram', true);
    store.getState().setShowMinMax(true);
    const reloaded = createPreferencesStore(storage).getState();
    expect(reloaded.hiddenSeries).toEqual(['gpu:1', 'ram']);
    expect(reloaded.showMinMax).toBe(true);
  });
});

describe('shared zoom', () => {
  afterEach(() => useChartView.getState().backToLive());

  it('one window for every chart until back to live; an empty drag zooms nothing', () => {
    useChartView.getState().zoomTo({ min: 100, max: 160 });
    expect(useChartView.getState().zoom).toEqual({ min: 100, max: 160 });
    useChartView.getState().zoomTo({ min: 120, max: 120 });
    expect(useChartView.getState().zoom).toEqual({ min: 100, max: 160 });
    useChartView.getState().backToLive();
    expect(useChartView.getState().zoom).toBeNull();
  });
});
