import { describe, expect, it } from 'vitest';
import { aggregateDataPoints, BucketRing } from '../src/utils/aggregate';
import { LiveHistory, LIVE_RANGE_TIERS } from '../src/stores/liveHistory';
import { breakAtGaps, buildLiveCharts, MAX_CHART_POINTS } from '../src/utils/chartData';
import { makeGPU, makeSystem } from './fixtures';
import { sortRows } from '../src/components/layout/SortableTable';

describe('aggregateDataPoints', () => {
  it('averages each bucket and orders buckets by time', () => {
    const points = [
      { time: 12_000, values: [10, 1] },
      { time: 1_000, values: [20, null] },
      { time: 4_000, values: [40, 3] },
      { time: 11_000, values: [30, 5] },
    ];
    expect(aggregateDataPoints(points, 5_000)).toEqual([
      { time: 0, values: [30, 3] },
      { time: 10_000, values: [20, 3] },
    ]);
  });
  it('leaves a field null when its bucket had no number', () => {
    expect(aggregateDataPoints([{ time: 0, values: [null, Number.NaN] }], 1000)).toEqual([
      { time: 0, values: [null, null] },
    ]);
  });
  it('returns nothing for no points', () => {
    expect(aggregateDataPoints([], 15_000)).toEqual([]);
  });
});

describe('BucketRing', () => {
  it('matches the batch aggregation', () => {
    const ring = new BucketRing(5_000, 100, 2);
    const points = Array.from({ length: 60 }, (_, i) => ({ time: i * 700, values: [i, i % 3 === 0 ? null : i * 2] }));
    points.forEach((point) => ring.push(point.time, point.values));
    const batch = aggregateDataPoints(points, 5_000);
    expect(ring.times(0)).toEqual(batch.map((point) => point.time / 1000));
    expect(ring.field(0, 0)).toEqual(batch.map((point) => point.values[0]));
    expect(ring.field(1, 0)).toEqual(batch.map((point) => point.values[1]));
  });

  it('keeps only its capacity, dropping the oldest buckets', () => {
    const ring = new BucketRing(1_000, 10, 1);
    for (let second = 0; second < 25; second += 1) ring.push(second * 1000, [second]);
    expect(ring.length).toBe(10);
    expect(ring.times(0)).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(ring.field(0, 20_000)).toEqual([20, 21, 22, 23, 24]);
  });

  it('drops samples older than its newest bucket', () => {
    const ring = new BucketRing(1_000, 10, 1);
    ring.push(5_000, [1]);
    ring.push(2_000, [2]);
    expect(ring.times(0)).toEqual([5]);
  });
});

describe('LiveHistory', () => {
  it('stays bounded over a day of one-second updates', () => {
    const history = new LiveHistory();
    const gpus = [makeGPU(0), makeGPU(1)];
    const start = 1_700_000_000_000;
    for (let second = 0; second < 2 * 86_400; second += 1) history.record(start + second * 1000, makeSystem(), gpus);
    for (const range of ['1h', '6h', '24h'] as const) {
      const { spanMs, bucketMs } = LIVE_RANGE_TIERS[range];
      expect(history.ring(range).length).toBeLessThanOrEqual(spanMs / bucketMs + 60);
    }
  });

  it('builds aligned chart columns: one line per GPU plus the host', () => {
    const history = new LiveHistory();
    const start = 1_700_000_000_000;
    for (let second = 0; second < 30; second += 1) {
      history.record(start + second * 1000, makeSystem(10 + second), [
        makeGPU(0, { temperature: 50 }),
        makeGPU(1, { temperature: 70 }),
      ]);
    }
    const charts = buildLiveCharts(history, '1h', [0, 1], start + 30_000);
    expect(charts.utilization.series.map((series) => series.label)).toEqual(['GPU 0', 'GPU 1', 'CPU']);
    expect(charts.temperature.columns).toHaveLength(2);
    expect(charts.temperature.columns[1]?.[0]).toBe(70);
    for (const chart of Object.values(charts)) {
      for (const column of chart.columns) expect(column).toHaveLength(chart.x.length);
    }
    expect(charts.utilization.x).toHaveLength(30);
    expect(charts.utilization.columns[2]?.[29]).toBe(39);
  });

  it('a lost GPU leaves a gap rather than zeros', () => {
    const history = new LiveHistory();
    history.record(1000, makeSystem(), [makeGPU(0, { lost: true })]);
    const charts = buildLiveCharts(history, '1h', [0], 2000);
    expect(charts.utilization.columns[0]).toEqual([null]);
  });
});

describe('chart point cap', () => {
  it('groups buckets so a line never has more points than the cap, averaging within a group', () => {
    const ring = new BucketRing(1_000, 4_000, 1);
    for (let second = 0; second < 3_600; second += 1) ring.push(second * 1000, [second % 2 === 0 ? 0 : 10]);
    const x = ring.times(0, 5);
    const y = ring.field(0, 0, 5);
    expect(x).toHaveLength(720);
    expect(y).toHaveLength(720);
    expect(x[1]! - x[0]!).toBe(5);
    expect(y[0]).toBe(4); // 0, 10, 0, 10, 0
  });

  it('the live charts respect the cap over a day of points', () => {
    const history = new LiveHistory();
    const start = 1_700_000_000_000;
    for (let second = 0; second < 86_400; second += 1) history.record(start + second * 1000, makeSystem(), [makeGPU(0)]);
    const charts = buildLiveCharts(history, '1h', [0], start + 86_400_000);
    expect(charts.utilization.x.length).toBeLessThanOrEqual(MAX_CHART_POINTS);
    expect(charts.utilization.x.length).toBeGreaterThan(MAX_CHART_POINTS / 2);
  });
});

describe('breakAtGaps', () => {
  it('breaks the lines where no data arrived for several steps, and nowhere else', () => {
    const chart = { x: [0, 1, 2, 3, 60, 61, 62], columns: [[1, 2, 3, 4, 5, 6, 7]], series: [{ label: 'GPU', colorKey: 0 }] };
    const broken = breakAtGaps(chart, 1);
    expect(broken.x).toEqual([0, 1, 2, 3, 31.5, 60, 61, 62]);
    expect(broken.columns[0]).toEqual([1, 2, 3, 4, null, 5, 6, 7]);
    const steady = { ...chart, x: [0, 5, 10, 15, 20, 25, 30] };
    expect(breakAtGaps(steady, 1)).toBe(steady); // a 5 s update interval is not an outage
  });
});

describe('sortRows', () => {
  it('sorts numbers and text either way, with missing values last both ways', () => {
    const rows = [{ v: 2 }, { v: null }, { v: 10 }, { v: 1 }];
    const value = (row: { v: number | null }) => row.v;
    expect(sortRows(rows, value, { key: 'v', direction: 'ascending' }).map((row) => row.v)).toEqual([1, 2, 10, null]);
    expect(sortRows(rows, value, { key: 'v', direction: 'descending' }).map((row) => row.v)).toEqual([10, 2, 1, null]);
    const names = [{ v: 'gpu10' }, { v: 'gpu9' }];
    expect(sortRows(names, (row) => row.v, { key: 'v', direction: 'ascending' }).map((row) => row.v)).toEqual(['gpu9', 'gpu10']);
  });
});
