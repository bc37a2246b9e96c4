/**
 * Client-side history of live points, used by the trend charts until (and on top of) server history.
 *
 * One ring per time range holds every series, so all series share their x values (uPlot needs aligned
 * data). Field layout: host CPU %, host RAM GB, then four fields per GPU slot. Capacities cover the
 * range with a little slack; nothing grows past them.
 */
import { TREND_METRICS } from '../api/history';
import { BucketRing } from '../utils/aggregate';
import type { TrendTable } from '../utils/trendTable';
import type { GPUMetrics, SystemMetrics, TimeRange } from '../types/system';

export type LiveRange = '1h' | '6h' | '24h';

/** Spec 003 §7.2: 1 h raw (1 s), 6 h in 5 s buckets, 24 h in 15 s buckets. */
export const LIVE_RANGE_TIERS: Record<LiveRange, { spanMs: number; bucketMs: number }> = {
  '1h': { spanMs: 3_600_000, bucketMs: 1_000 },
  '6h': { spanMs: 21_600_000, bucketMs: 5_000 },
  '24h': { spanMs: 86_400_000, bucketMs: 15_000 },
};

export const HOST_FIELDS = 2;
export const GPU_FIELDS = 4;
export const GPU_FIELD = { utilization: 0, memoryUsedGb: 1, temperature: 2, power: 3 } as const;
export const HOST_FIELD = { cpu: 0, ramUsedGb: 1 } as const;
const SLACK_BUCKETS = 60;

export function isLiveRange(range: TimeRange): range is LiveRange {
  return range in LIVE_RANGE_TIERS;
}

export class LiveHistory {
  private rings: Record<LiveRange, BucketRing>;
  private gpuSlots = new Map<number, number>();
  private slotCapacity: number;
  /** Bumped on every change so subscribers know to redraw. */
  version = 0;

  constructor(gpuSlotCapacity = 8) {
    this.slotCapacity = gpuSlotCapacity;
    this.rings = this.makeRings(gpuSlotCapacity);
  }

  private makeRings(slots: number): Record<LiveRange, BucketRing> {
    const fields = HOST_FIELDS + GPU_FIELDS * slots;
    const ring = (range: LiveRange): BucketRing => {
      const { spanMs, bucketMs } = LIVE_RANGE_TIERS[range];
      return new BucketRing(bucketMs, Math.ceil(spanMs / bucketMs) + SLACK_BUCKETS, fields);
    };
    return { '1h': ring('1h'), '6h': ring('6h'), '24h': ring('24h') };
  }

  /** The slot of a GPU, growing the rings (and dropping their contents) if a new GPU appears beyond capacity. */
  private slotFor(gpuId: number): number {
    const existing = this.gpuSlots.get(gpuId);
    if (existing !== undefined) return existing;
    if (this.gpuSlots.size >= this.slotCapacity) {
      this.slotCapacity *= 2;
      this.rings = this.makeRings(this.slotCapacity);
    }
    const slot = this.gpuSlots.size;
    this.gpuSlots.set(gpuId, slot);
    return slot;
  }

  hasGPU(gpuId: number): boolean {
    return this.gpuSlots.has(gpuId);
  }

  fieldIndexOfGPU(gpuId: number, field: number): number | null {
    const slot = this.gpuSlots.get(gpuId);
    return slot === undefined ? null : HOST_FIELDS + slot * GPU_FIELDS + field;
  }

  /** Record one moment: the host (if known) and any number of GPUs. */
  record(timeMs: number, system: SystemMetrics | null, gpus: readonly GPUMetrics[]): void {
    for (const gpu of gpus) this.slotFor(gpu.gpu_id);
    const values: (number | null)[] = new Array(HOST_FIELDS + GPU_FIELDS * this.slotCapacity).fill(null);
    if (system) {
      values[HOST_FIELD.cpu] = system.cpu.usage_percent;
      values[HOST_FIELD.ramUsedGb] = system.memory.used_gb;
    }
    for (const gpu of gpus) {
      if (gpu.lost) continue;
      const base = HOST_FIELDS + (this.gpuSlots.get(gpu.gpu_id) ?? 0) * GPU_FIELDS;
      values[base + GPU_FIELD.utilization] = gpu.utilization.gpu;
      values[base + GPU_FIELD.memoryUsedGb] = gpu.memory.used_gb;
      values[base + GPU_FIELD.temperature] = gpu.temperature;
      values[base + GPU_FIELD.power] = gpu.power.current_watts;
    }
    for (const ring of Object.values(this.rings)) ring.push(timeMs, values);
    this.version += 1;
  }

  ring(range: LiveRange): BucketRing {
    return this.rings[range];
  }

  /** Load server history for one range underneath the live points (see BucketRing.backfill). */
  backfill(range: LiveRange, trends: TrendTable): void {
    const gpuIds = trends.gpuIds();
    gpuIds.forEach((id) => this.slotFor(id));
    const width = HOST_FIELDS + GPU_FIELDS * this.slotCapacity;
    // Each backfilled field: the server buckets' means, and the lowest and highest value behind each.
    const columns: { field: number; metric: string; gpuId: number | null }[] = [
      { field: HOST_FIELD.cpu, metric: TREND_METRICS.cpuUtilization, gpuId: null },
      { field: HOST_FIELD.ramUsedGb, metric: TREND_METRICS.ramUsedGb, gpuId: null },
    ];
    for (const id of gpuIds) {
      const base = HOST_FIELDS + (this.gpuSlots.get(id) ?? 0) * GPU_FIELDS;
      columns.push(
        { field: base + GPU_FIELD.utilization, metric: TREND_METRICS.gpuUtilization, gpuId: id },
        { field: base + GPU_FIELD.memoryUsedGb, metric: TREND_METRICS.gpuMemoryUsedGb, gpuId: id },
        { field: base + GPU_FIELD.temperature, metric: TREND_METRICS.temperature, gpuId: id },
        { field: base + GPU_FIELD.power, metric: TREND_METRICS.power, gpuId: id },
      );
    }
    const read = columns.map((column) => ({
      field: column.field,
      avg: trends.column(column.metric, column.gpuId),
      min: trends.column(column.metric, column.gpuId, 'min'),
      max: trends.column(column.metric, column.gpuId, 'max'),
    }));
    const points = trends.times.map((seconds, row) => {
      const values: (number | null)[] = new Array(width).fill(null);
      const mins: (number | null)[] = new Array(width).fill(null);
      const maxs: (number | null)[] = new Array(width).fill(null);
      for (const column of read) {
        values[column.field] = column.avg[row] ?? null;
        mins[column.field] = column.min[row] ?? null;
        maxs[column.field] = column.max[row] ?? null;
      }
      return { time: seconds * 1000, values, mins, maxs };
    });
    this.rings[range].backfill(points);
    this.version += 1;
  }

  clear(): void {
    for (const ring of Object.values(this.rings)) ring.clear();
    this.version += 1;
  }
}

/** The page's one history; module-level so it survives component remounts. */
export const liveHistory = new LiveHistory();
