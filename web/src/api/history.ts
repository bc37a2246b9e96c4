import { API_BASE, getJson } from './client';
import type { components } from '../types/api.gen';
import type { TimeRange } from '../types/system';

/** Server history (`/api/v1/history`): bucketed avg/min/max, usage per GPU and user, export. */

type Schemas = components['schemas'];

export type TrendSeries = Schemas['TrendSeries'];
export type TrendsResponse = Schemas['TrendsResponse'];
export type GPUUsage = Schemas['GPUUsageItem'];
export type UserUsage = Schemas['UserUsageItem'];
export type OwnerUsage = Schemas['OwnerUsageItem'];
export type UsageResponse = Schemas['UsageResponse'];

/** The chart series the trends endpoint returns by default, by metric name. */
export const TREND_METRICS = {
  gpuUtilization: 'gpu_utilization',
  gpuMemoryUsedGb: 'gpu_memory_used_gb',
  temperature: 'temperature',
  power: 'power_watts',
  cpuUtilization: 'cpu_utilization',
  ramUsedGb: 'ram_used_gb',
} as const;

/** `&node=…` for one node of the fleet (`all`: every node, where the endpoint allows it); empty for this server. */
function nodeParam(node: string | null | undefined): string {
  return node ? `&node=${encodeURIComponent(node)}` : '';
}

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
  getTrends(range: TimeRange, signal?: AbortSignal, node?: string | null): Promise<TrendsResponse> {
    return getJson(`/history/trends?range=${range}${nodeParam(node)}`, { signal });
  },
  getUsage(range: TimeRange, signal?: AbortSignal, node?: string | null): Promise<UsageResponse> {
    return getJson(`/history/usage?range=${range}${nodeParam(node)}`, { signal });
  },
  exportUrl(range: TimeRange, format: 'csv' | 'json', node?: string | null): string {
    return `${API_BASE}/history/export?range=${range}&format=${format}${nodeParam(node)}`;
  },
};
