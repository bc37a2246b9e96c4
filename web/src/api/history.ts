import { API_BASE, getJson } from './client';
import type { TimeRange } from '../types/system';

/** Server history (`/api/v1/history`): bucketed avg/min/max, usage per GPU and user, export. */

export interface TrendSeries {
  metric: string;
  unit: string;
  gpu_id: number | null;
  /** Bucket starts, Unix seconds; empty buckets are absent. */
  timestamps: number[];
  avg: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
}

export interface TrendsResponse {
  start: number;
  end: number;
  bucket_seconds: number;
  tier: string;
  range: string | null;
  series: TrendSeries[];
}

export interface GPUUsage {
  gpu_id: number;
  name: string | null;
  hours: number;
  gpu_hours: number;
  energy_kwh: number;
  peak_memory_gb: number | null;
  avg_utilization: number | null;
  peak_power_watts: number | null;
}

export interface UserUsage {
  user: string | null;
  gpu_ids: number[];
  processes: number;
  hours: number;
  gpu_hours: number;
  energy_kwh: number;
  peak_memory_gb: number | null;
  avg_utilization: number | null;
}

export interface UsageResponse {
  start: number;
  end: number;
  resolution_seconds: number;
  gpus: GPUUsage[];
  users: UserUsage[];
}

/** The chart series the trends endpoint returns by default, by metric name. */
export const TREND_METRICS = {
  gpuUtilization: 'gpu_utilization',
  gpuMemoryUsedGb: 'gpu_memory_used_gb',
  temperature: 'temperature',
  power: 'power_watts',
  cpuUtilization: 'cpu_utilization',
  ramUsedGb: 'ram_used_gb',
} as const;

export const historyApi = {
  /** Resolves to false when the service keeps no history (404: older server; 503: disabled or down). */
  async isAvailable(): Promise<boolean> {
    try {
      await getJson('/history/metrics');
      return true;
    } catch {
      return false;
    }
  },
  getTrends(range: TimeRange, signal?: AbortSignal): Promise<TrendsResponse> {
    return getJson(`/history/trends?range=${range}`, { signal });
  },
  getUsage(range: TimeRange, signal?: AbortSignal): Promise<UsageResponse> {
    return getJson(`/history/usage?range=${range}`, { signal });
  },
  exportUrl(range: TimeRange, format: 'csv' | 'json'): string {
    return `${API_BASE}/history/export?range=${range}&format=${format}`;
  },
};
