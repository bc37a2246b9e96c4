import type { TrendsResponse } from '../api/history';

/**
 * A trends answer as one table: the union of every series' bucket times, and each series as a column
 * aligned to it (null where that series had no bucket).
 */
export class TrendTable {
  readonly times: number[];
  private readonly columns = new Map<string, (number | null)[]>();
  private readonly gpus = new Set<number>();

  constructor(trends: TrendsResponse) {
    const all = new Set<number>();
    for (const series of trends.series) for (const time of series.timestamps) all.add(time);
    this.times = [...all].sort((a, b) => a - b);
    const rowOf = new Map(this.times.map((time, row) => [time, row]));
    for (const series of trends.series) {
      if (series.gpu_id !== null) this.gpus.add(series.gpu_id);
      const column: (number | null)[] = new Array(this.times.length).fill(null);
      series.timestamps.forEach((time, index) => {
        column[rowOf.get(time) ?? 0] = series.avg[index] ?? null;
      });
      this.columns.set(TrendTable.key(series.metric, series.gpu_id), column);
    }
  }

  private static key(metric: string, gpuId: number | null): string {
    return `${metric}:${gpuId ?? 'host'}`;
  }

  gpuIds(): number[] {
    return [...this.gpus].sort((a, b) => a - b);
  }

  column(metric: string, gpuId: number | null): (number | null)[] {
    return this.columns.get(TrendTable.key(metric, gpuId)) ?? new Array(this.times.length).fill(null);
  }
}
