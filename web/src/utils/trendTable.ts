import type { TrendsResponse } from '../api/history';

/** Which of a bucket's figures a column holds. */
export type Statistic = 'avg' | 'min' | 'max';

/**
 * A trends answer as one table: the union of every series' bucket times, and each series' mean, lowest
 * and highest value as columns aligned to it (null where that series had no bucket).
 */
export class TrendTable {
  readonly times: number[];
  /** Seconds each bucket covers. */
  readonly bucketSeconds: number;
  private readonly columns = new Map<string, (number | null)[]>();
  private readonly gpus = new Set<number>();

  constructor(trends: TrendsResponse) {
    this.bucketSeconds = trends.bucket_seconds;
    const all = new Set<number>();
    for (const series of trends.series) for (const time of series.timestamps) all.add(time);
    this.times = [...all].sort((a, b) => a - b);
    const rowOf = new Map(this.times.map((time, row) => [time, row]));
    for (const series of trends.series) {
      if (series.gpu_id !== null) this.gpus.add(series.gpu_id);
      for (const statistic of ['avg', 'min', 'max'] as const) {
        const column: (number | null)[] = new Array(this.times.length).fill(null);
        const values = series[statistic];
        series.timestamps.forEach((time, index) => {
          column[rowOf.get(time) ?? 0] = values[index] ?? null;
        });
        this.columns.set(TrendTable.key(series.metric, series.gpu_id, statistic), column);
      }
    }
  }

  private static key(metric: string, gpuId: number | null, statistic: Statistic): string {
    return `${metric}:${gpuId ?? 'host'}:${statistic}`;
  }

  gpuIds(): number[] {
    return [...this.gpus].sort((a, b) => a - b);
  }

  column(metric: string, gpuId: number | null, statistic: Statistic = 'avg'): (number | null)[] {
    return this.columns.get(TrendTable.key(metric, gpuId, statistic)) ?? new Array(this.times.length).fill(null);
  }
}
